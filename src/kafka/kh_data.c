/*
 * kh_data.c - the data-path API handlers: Produce, Fetch (with long poll) and ListOffsets.
 *
 * Produce runs on the thread pool (one per connection at a time, see server.c) because an append
 * waits for its fsync; Fetch and ListOffsets run on the loop thread and serve stored batch bytes
 * as they are, never re-encoded. A Fetch that finds fewer than MinBytes parks until new data
 * arrives (wr_log_watch -> uv_async) or MaxWaitMs passes.
 *
 * Ownership: responses live in the request's arena; Fetch record bytes in the request's data
 * buffer (the response's records point into it once every partition has been read).
 */
#include <string.h>

#include "src/base/logging.h"
#include "src/coord/txn.h"
#include "src/kafka/broker_int.h"
#include "src/log/log.h"
#include "src/log/rbatch.h"

int16_t
wr__kerr_from_log(int rc)
{
    switch (rc) {
    case WR_OK:
        return WR_KERR_NONE;
    case WR_ENOENT:
        return WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case WR_EOFFSET:
        return WR_KERR_OFFSET_OUT_OF_RANGE;
    case WR_ECRC:
    case WR_ECOMPRESS: /* a compressed batch's records: garbage, a bomb, malformed */
        return WR_KERR_CORRUPT_MESSAGE;
    case WR_ECORRUPT:
    case WR_EINVAL:
    case WR_ETRUNC:
        return WR_KERR_INVALID_RECORD;
    case WR_ETOOBIG:
        return WR_KERR_MESSAGE_TOO_LARGE;
    case WR_EIO:
    case WR_ENOSPC:
        return WR_KERR_KAFKA_STORAGE_ERROR;
    case WR_ESEQUENCE:
        return WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case WR_EFENCED:
        return WR_KERR_INVALID_PRODUCER_EPOCH;
    default:
        return WR_KERR_UNKNOWN_SERVER_ERROR;
    }
}

/* ---- Produce --------------------------------------------------------------------------- */

/* The transactional rules of a Produce to one partition: a transactional id sends transactional
   batches of the id's current producer, to a partition of its open transaction (KIP-890 part 1:
   a late Produce cannot open a transaction of its own); nobody sends control batches, which the
   coordinator alone writes; without an id, no batch claims to be transactional. On success with
   a transactional id, *began: the transaction cannot end before wr_txn_produce_end (called
   once the append is done), so the batches land before its markers. */
static int16_t
txn_check(wr_broker *b,
          const char *txn_id,
          const char *topic,
          int32_t part,
          const uint8_t *d,
          size_t len,
          bool *began)
{
    *began = false;
    int64_t pid = -1;
    int16_t epoch = -1;
    for (size_t off = 0; off < len;) {
        wr_rbatch_hdr h;
        if (wr_rbatch_parse_hdr(d + off, len - off, &h, NULL) != WR_OK)
            return WR_KERR_NONE; /* the append's validation answers this one */
        size_t size = wr_rbatch_size(d + off, len - off);
        if (size == 0)
            return WR_KERR_NONE;
        off += size;
        bool txnl = (h.attributes & WR_RBATCH_TRANSACTIONAL) != 0;
        if ((h.attributes & WR_RBATCH_CONTROL) || txnl != (txn_id != NULL))
            return WR_KERR_INVALID_RECORD;
        if (txn_id != NULL && pid >= 0 && (h.producer_id != pid || h.producer_epoch != epoch))
            return WR_KERR_INVALID_RECORD; /* one producer per partition of a request */
        pid = h.producer_id;
        epoch = h.producer_epoch;
    }
    if (txn_id == NULL || pid < 0)
        return WR_KERR_NONE;
    int16_t kerr = wr_txn_produce_begin(b->txn, txn_id, pid, epoch, topic, part);
    *began = kerr == WR_KERR_NONE;
    return kerr;
}

static void
produce_work(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_produce_req *q = r->body;
    wr_kp_produce_resp *s = r->resp;
    for (int32_t i = 0; i < s->responses.n; i++) {
        wr_kp_produce_req_topic_produce_data *td = &q->topic_data.v[i];
        wr_kp_produce_resp_topic_produce_response *tr = &s->responses.v[i];
        for (int32_t j = 0; j < tr->partition_responses.n; j++) {
            wr_kp_produce_req_partition_produce_data *pd = &td->partition_data.v[j];
            wr_kp_produce_resp_partition_produce_response *pr = &tr->partition_responses.v[j];
            if (pr->error_code != WR_KERR_NONE)
                continue;
            wr_partition *p = NULL;
            int rc = wr_log_partition(b->db, td->name.s, pd->index, &p);
            if (rc != WR_OK) {
                pr->error_code = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (pd->records.len <= 0) {
                pr->error_code = WR_KERR_INVALID_RECORD;
                continue;
            }
            bool began;
            int16_t terr = txn_check(b, q->transactional_id.s, td->name.s, pd->index, pd->records.p,
                                     (size_t)pd->records.len, &began);
            if (terr != WR_KERR_NONE) {
                pr->error_code = terr;
                continue;
            }
            wr_log_append_result res = {0};
            wr_err err = {0};
            int kerr = wr__kidem_append(b->idem, p, td->name.s, pd->index, pd->records.p,
                                        (size_t)pd->records.len, &res, &err);
            if (began)
                wr_txn_produce_end(b->txn, q->transactional_id.s);
            pr->error_code = (int16_t)kerr;
            if (kerr == WR_KERR_NONE) {
                pr->base_offset = res.base_offset;
                pr->log_append_time_ms = res.log_append_time;
                pr->log_start_offset = res.log_start_offset;
            } else if (kerr != WR_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER &&
                       kerr != WR_KERR_INVALID_PRODUCER_EPOCH &&
                       kerr != WR_KERR_UNKNOWN_PRODUCER_ID) {
                wr_log(WR_LOG_WARN, "kafka", "produce to %s-%d rejected (error %d): %s", td->name.s,
                       pd->index, kerr, err.msg);
            }
        }
    }
}

void
wr__kh_produce(wr_kreq *r)
{
    const wr_kp_produce_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_produce_resp *s = wr_kp_new(r->arena, &wr_kp_produce_resp_desc, v);
    r->resp = s;
    s->responses.n = q->topic_data.n > 0 ? q->topic_data.n : 0;
    s->responses.v = wr_kp_new_array(r->arena, &wr_kp_produce_resp_topic_produce_response_desc,
                                     s->responses.n, v);
    int16_t all_err = WR_KERR_NONE;
    if (v < 3)
        all_err = WR_KERR_UNSUPPORTED_VERSION; /* MessageSet v0/v1: as Kafka 4.0 */
    else if (q->acks != 0 && q->acks != 1 && q->acks != -1)
        all_err = WR_KERR_INVALID_REQUIRED_ACKS;
    /* authorization: WRITE on the transactional id (all partitions), WRITE on each topic */
    if (all_err == WR_KERR_NONE && q->transactional_id.s != NULL &&
        !wr__kauthz_str(r, WR_ACL_OP_WRITE, WR_ACL_RES_TRANSACTIONAL_ID, q->transactional_id))
        all_err = WR_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    bool any = false;
    for (int32_t i = 0; i < s->responses.n; i++) {
        wr_kp_produce_req_topic_produce_data *td = &q->topic_data.v[i];
        wr_kp_produce_resp_topic_produce_response *tr = &s->responses.v[i];
        tr->name = td->name;
        int32_t n = td->partition_data.n > 0 ? td->partition_data.n : 0;
        tr->partition_responses.n = n;
        tr->partition_responses.v =
            wr_kp_new_array(r->arena, &wr_kp_produce_resp_partition_produce_response_desc, n, v);
        int16_t terr = all_err;
        if (terr == WR_KERR_NONE && n > 0 &&
            !wr__kauthz_str(r, WR_ACL_OP_WRITE, WR_ACL_RES_TOPIC, td->name))
            terr = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
        for (int32_t j = 0; j < n; j++) {
            tr->partition_responses.v[j].index = td->partition_data.v[j].index;
            tr->partition_responses.v[j].base_offset = -1;
            tr->partition_responses.v[j].error_code = terr;
            any |= terr == WR_KERR_NONE;
        }
    }
    r->no_response = q->acks == 0;
    if (all_err != WR_KERR_NONE || !any) {
        wr__kreq_finish(r);
        return;
    }
    wr__kreq_queue_work(r, produce_work);
}

/* ---- Fetch ----------------------------------------------------------------------------- */

/* The aborted transactions a read_committed reader of [from, LSO) must drop (Kafka lists those
   whose marker is at or after the fetch offset and whose first offset is below the upper
   bound of the read). */
static void
aborted_list(wr_kreq *r, wr_partition *p, int64_t from, wr_kp_fetch_resp_partition_data *pr)
{
    int64_t upto = pr->last_stable_offset;
    wr_log_aborted_txn few[16];
    size_t n = wr_log_aborted_txns(p, from, upto, few, 16);
    if (n == 0)
        return;
    wr_log_aborted_txn *all = few;
    if (n > 16) {
        all = wr_arena_alloc(r->arena, n * sizeof *all);
        if (all == NULL)
            return;
        n = wr_log_aborted_txns(p, from, upto, all, n);
    }
    int16_t v = r->hdr.api_version;
    pr->aborted_transactions.v =
        wr_kp_new_array(r->arena, &wr_kp_fetch_resp_aborted_transaction_desc, (int32_t)n, v);
    if (pr->aborted_transactions.v == NULL)
        return;
    pr->aborted_transactions.n = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        pr->aborted_transactions.v[i].producer_id = all[i].producer_id;
        pr->aborted_transactions.v[i].first_offset = all[i].first_offset;
    }
}

/* Reads every requested partition into r->data and builds the response. Returns the bytes. */
static size_t
fetch_fill(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_fetch_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_fetch_resp *s = wr_kp_new(r->arena, &wr_kp_fetch_resp_desc, v);
    r->resp = s;
    wr_buf_reset(&r->data);
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->responses.n = nt;
    s->responses.v =
        wr_kp_new_array(r->arena, &wr_kp_fetch_resp_fetchable_topic_response_desc, nt, v);
    size_t budget = q->max_bytes > 0 ? (size_t)q->max_bytes : 0;
    size_t total = 0;
    size_t *offs = NULL;
    int32_t nparts = 0;
    for (int32_t i = 0; i < nt; i++)
        nparts += q->topics.v[i].partitions.n > 0 ? q->topics.v[i].partitions.n : 0;
    offs = wr_arena_alloc(r->arena, (size_t)(nparts > 0 ? nparts : 1) * 2 * sizeof *offs);
    int32_t k = 0;
    for (int32_t i = 0; i < nt; i++) {
        const wr_kp_fetch_req_fetch_topic *ft = &q->topics.v[i];
        wr_kp_fetch_resp_fetchable_topic_response *tr = &s->responses.v[i];
        tr->topic = ft->topic;
        int32_t np = ft->partitions.n > 0 ? ft->partitions.n : 0;
        tr->partitions.n = np;
        tr->partitions.v = wr_kp_new_array(r->arena, &wr_kp_fetch_resp_partition_data_desc, np, v);
        bool readable = np == 0 || wr__kauthz_str(r, WR_ACL_OP_READ, WR_ACL_RES_TOPIC, ft->topic);
        for (int32_t j = 0; j < np; j++, k++) {
            const wr_kp_fetch_req_fetch_partition *fp = &ft->partitions.v[j];
            wr_kp_fetch_resp_partition_data *pr = &tr->partitions.v[j];
            pr->partition_index = fp->partition;
            pr->high_watermark = -1;
            pr->aborted_transactions.n = -1;
            offs[2 * k] = r->data.len;
            offs[2 * k + 1] = 0;
            if (!readable) {
                pr->error_code = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            wr_partition *p = NULL;
            if (wr_log_partition(b->db, ft->topic.s, fp->partition, &p) != WR_OK) {
                pr->error_code = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            size_t pmax = fp->partition_max_bytes > 0 ? (size_t)fp->partition_max_bytes : 0;
            if (budget < pmax)
                pmax = budget;
            wr_log_read_result res = {0};
            int rc = WR_OK;
            /* read_committed: nothing at or past the last stable offset */
            int64_t lso = wr_log_stable_offset(p);
            int64_t upto = q->isolation_level == 1 ? lso : INT64_MAX;
            if (pmax > 0 || total == 0) {
                /* KIP-74: the first batch is served even when larger than the limits */
                rc = wr_log_read_upto(p, fp->fetch_offset, upto, pmax > 0 ? pmax : 1, &r->data,
                                      &res, NULL);
            } else {
                res.high_watermark = wr_log_end_offset(p);
                res.log_start_offset = wr_log_start_offset(p);
            }
            if (rc != WR_OK) {
                pr->error_code = wr__kerr_from_log(rc);
                pr->high_watermark = wr_log_end_offset(p);
                pr->log_start_offset = wr_log_start_offset(p);
                pr->last_stable_offset = lso;
                continue;
            }
            pr->high_watermark = res.high_watermark;
            pr->last_stable_offset = lso < res.high_watermark ? lso : res.high_watermark;
            pr->log_start_offset = res.log_start_offset;
            if (q->isolation_level == 1 && res.bytes > 0)
                aborted_list(r, p, fp->fetch_offset, pr);
            offs[2 * k + 1] = res.bytes;
            total += res.bytes;
            budget = budget > res.bytes ? budget - res.bytes : 0;
        }
    }
    /* r->data is complete: point the records at it */
    k = 0;
    for (int32_t i = 0; i < nt; i++) {
        wr_kp_fetch_resp_fetchable_topic_response *tr = &s->responses.v[i];
        for (int32_t j = 0; j < tr->partitions.n; j++, k++) {
            wr_kp_fetch_resp_partition_data *pr = &tr->partitions.v[j];
            pr->records =
                (wr_kbytes){r->data.data ? r->data.data + offs[2 * k] : (const uint8_t *)"",
                            (int32_t)offs[2 * k + 1]};
        }
    }
    if (!wr_buf_ok(&r->data)) {
        s->error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        return SIZE_MAX;
    }
    return total;
}

void
wr__kh_fetch_retry(wr_kreq *r, bool final)
{
    if (r->conn->closing || r->done)
        return;
    const wr_kp_fetch_req *q = r->body;
    size_t got = fetch_fill(r);
    if (final || got >= (size_t)(q->min_bytes > 0 ? q->min_bytes : 1))
        wr__kreq_finish(r);
}

void
wr__kh_fetch(wr_kreq *r)
{
    const wr_kp_fetch_req *q = r->body;
    size_t got = fetch_fill(r);
    if (q->max_wait_ms <= 0 || got >= (size_t)(q->min_bytes > 0 ? q->min_bytes : 1) ||
        got == SIZE_MAX) {
        wr__kreq_finish(r);
        return;
    }
    wr__kreq_park(r, wr__kmono_ms() + q->max_wait_ms);
}

/* ---- ListOffsets ----------------------------------------------------------------------- */

void
wr__kh_list_offsets(wr_kreq *r)
{
    wr_broker *b = r->conn->b;
    const wr_kp_list_offsets_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_list_offsets_resp *s = wr_kp_new(r->arena, &wr_kp_list_offsets_resp_desc, v);
    r->resp = s;
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->topics.n = nt;
    s->topics.v =
        wr_kp_new_array(r->arena, &wr_kp_list_offsets_resp_list_offsets_topic_response_desc, nt, v);
    for (int32_t i = 0; i < nt; i++) {
        const wr_kp_list_offsets_req_list_offsets_topic *t = &q->topics.v[i];
        wr_kp_list_offsets_resp_list_offsets_topic_response *tr = &s->topics.v[i];
        tr->name = t->name;
        int32_t np = t->partitions.n > 0 ? t->partitions.n : 0;
        tr->partitions.n = np;
        tr->partitions.v = wr_kp_new_array(
            r->arena, &wr_kp_list_offsets_resp_list_offsets_partition_response_desc, np, v);
        bool visible = np == 0 || wr__kauthz_str(r, WR_ACL_OP_DESCRIBE, WR_ACL_RES_TOPIC, t->name);
        for (int32_t j = 0; j < np; j++) {
            const wr_kp_list_offsets_req_list_offsets_partition *pq = &t->partitions.v[j];
            wr_kp_list_offsets_resp_list_offsets_partition_response *pr = &tr->partitions.v[j];
            pr->partition_index = pq->partition_index;
            if (!visible) {
                pr->error_code = WR_KERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            wr_partition *p = NULL;
            if (wr_log_partition(b->db, t->name.s, pq->partition_index, &p) != WR_OK) {
                pr->error_code = WR_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int64_t off = -1, ts = -1;
            if (pq->timestamp == -2) {
                off = wr_log_start_offset(p);
            } else if (pq->timestamp == -1) {
                /* read_committed readers end at the last stable offset */
                off = q->isolation_level == 1 ? wr_log_stable_offset(p) : wr_log_end_offset(p);
            } else if (pq->timestamp >= 0) {
                int rc = wr_log_offset_for_time(p, pq->timestamp, &off, &ts, NULL);
                if (rc != WR_OK) {
                    pr->error_code = wr__kerr_from_log(rc);
                    continue;
                }
            } else {
                pr->error_code = WR_KERR_INVALID_REQUEST;
                continue;
            }
            pr->offset = off;
            pr->timestamp = ts;
            if (v == 0) {
                int64_t *o = wr_arena_alloc(r->arena, sizeof *o);
                *o = off;
                pr->old_style_offsets.v = o;
                pr->old_style_offsets.n = off >= 0 ? 1 : 0;
            }
        }
    }
    wr__kreq_finish(r);
}
