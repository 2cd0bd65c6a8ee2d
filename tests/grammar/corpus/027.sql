-- a line comment
SELECT /* inline */ a -- trailing
 FROM /* multi
 line */ s; -- done