/*
 * kh_txn.c - the transaction APIs: InitProducerId with a transactional id, AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn and TxnOffsetCommit, answered by the transaction coordinator
 * (src/coord/txn.c).
 *
 * They run on the thread pool (as Produce does): EndTxn writes a marker to every partition of
 * the transaction and waits for each fsync, and the others write the coordinator's state to
 * LMDB. The response is built there and sent by the loop thread when the work is done.
 *
 * PRODUCER_FENCED exists from InitProducerId v4, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn
 * v2, TxnOffsetCommit v3; older versions get INVALID_PRODUCER_EPOCH for it, as Kafka answers.
 */
#include "src/kafka/broker_int.h"

static int16_t
fenced_for(int16_t kerr, int16_t version, int16_t first)
{
    return kerr == WR_KERR_PRODUCER_FENCED && version < first ? WR_KERR_INVALID_PRODUCER_EPOCH
                                                              : kerr;
}

/* ---- InitProducerId -------------------------------------------------------------------- */

static void
init_producer_work(wr_kreq *r)
{
    const wr_kp_init_producer_id_req *q = r->body;
    wr_kp_init_producer_id_resp *s = r->resp;
    int64_t pid = -1;
    int16_t epoch = -1;
    int16_t kerr =
        wr_txn_init_producer(r->conn->b->txn, q->transactional_id.s, q->transaction_timeout_ms,
                             q->producer_id, q->producer_epoch, &pid, &epoch);
    s->error_code = fenced_for(kerr, r->hdr.api_version, 4);
    s->producer_id = pid;
    s->producer_epoch = epoch;
}

void
wr__kh_init_producer_txn(wr_kreq *r)
{
    wr__kreq_queue_work(r, init_producer_work);
}

/* ---- AddPartitionsToTxn ---------------------------------------------------------------- */

static void
add_partitions_work(wr_kreq *r)
{
    const wr_kp_add_partitions_to_txn_req *q = r->body;
    wr_kp_add_partitions_to_txn_resp *s = r->resp;
    int16_t v = r->hdr.api_version;
    int n = 0;
    for (int32_t i = 0; i < q->topics.n; i++)
        n += q->topics.v[i].partitions.n > 0 ? q->topics.v[i].partitions.n : 0;
    wr_txn_partition *parts = wr_arena_calloc(r->arena, (size_t)(n > 0 ? n : 1), sizeof *parts);
    if (parts == NULL)
        return;
    int k = 0;
    for (int32_t i = 0; i < q->topics.n; i++)
        for (int32_t j = 0; j < q->topics.v[i].partitions.n; j++)
            parts[k++] = (wr_txn_partition){q->topics.v[i].name.s, q->topics.v[i].partitions.v[j],
                                            WR_KERR_NONE};
    wr_txn_add_partitions(r->conn->b->txn, q->transactional_id.s, q->producer_id, q->producer_epoch,
                          parts, n);
    k = 0;
    for (int32_t i = 0; i < s->results.n; i++)
        for (int32_t j = 0; j < s->results.v[i].results.n; j++)
            s->results.v[i].results.v[j].error_code = fenced_for(parts[k++].error, v, 2);
}

void
wr__kh_add_partitions_to_txn(wr_kreq *r)
{
    const wr_kp_add_partitions_to_txn_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_add_partitions_to_txn_resp *s =
        wr_kp_new(r->arena, &wr_kp_add_partitions_to_txn_resp_desc, v);
    r->resp = s;
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->results.n = nt;
    s->results.v = wr_kp_new_array(
        r->arena, &wr_kp_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc, nt, v);
    for (int32_t i = 0; i < nt; i++) {
        s->results.v[i].name = q->topics.v[i].name;
        int32_t np = q->topics.v[i].partitions.n > 0 ? q->topics.v[i].partitions.n : 0;
        s->results.v[i].results.n = np;
        s->results.v[i].results.v = wr_kp_new_array(
            r->arena, &wr_kp_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result_desc,
            np, v);
        for (int32_t j = 0; j < np; j++) {
            s->results.v[i].results.v[j].partition_index = q->topics.v[i].partitions.v[j];
            s->results.v[i].results.v[j].error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    wr__kreq_queue_work(r, add_partitions_work);
}

/* ---- AddOffsetsToTxn ------------------------------------------------------------------- */

static void
add_offsets_work(wr_kreq *r)
{
    const wr_kp_add_offsets_to_txn_req *q = r->body;
    wr_kp_add_offsets_to_txn_resp *s = r->resp;
    int16_t kerr = wr_txn_add_offsets(r->conn->b->txn, q->transactional_id.s, q->producer_id,
                                      q->producer_epoch, q->group_id.s);
    s->error_code = fenced_for(kerr, r->hdr.api_version, 2);
}

void
wr__kh_add_offsets_to_txn(wr_kreq *r)
{
    r->resp = wr_kp_new(r->arena, &wr_kp_add_offsets_to_txn_resp_desc, r->hdr.api_version);
    wr__kreq_queue_work(r, add_offsets_work);
}

/* ---- EndTxn ---------------------------------------------------------------------------- */

static void
end_txn_work(wr_kreq *r)
{
    const wr_kp_end_txn_req *q = r->body;
    wr_kp_end_txn_resp *s = r->resp;
    int16_t v = r->hdr.api_version;
    int64_t pid = -1;
    int16_t epoch = -1;
    /* v5 clients move their epoch on with every transaction (KIP-890 part 2) */
    int16_t kerr = wr_txn_end(r->conn->b->txn, q->transactional_id.s, q->producer_id,
                              q->producer_epoch, q->committed, v >= 5, &pid, &epoch);
    s->error_code = fenced_for(kerr, v, 2);
    s->producer_id = kerr == WR_KERR_NONE ? pid : -1;
    s->producer_epoch = kerr == WR_KERR_NONE ? epoch : -1;
}

void
wr__kh_end_txn(wr_kreq *r)
{
    r->resp = wr_kp_new(r->arena, &wr_kp_end_txn_resp_desc, r->hdr.api_version);
    wr__kreq_queue_work(r, end_txn_work);
}

/* ---- TxnOffsetCommit ------------------------------------------------------------------- */

static void
txn_offset_commit_work(wr_kreq *r)
{
    const wr_kp_txn_offset_commit_req *q = r->body;
    wr_kp_txn_offset_commit_resp *s = r->resp;
    int16_t v = r->hdr.api_version;
    int n = 0;
    for (int32_t i = 0; i < q->topics.n; i++)
        n += q->topics.v[i].partitions.n > 0 ? q->topics.v[i].partitions.n : 0;
    wr_txn_offset *offs = wr_arena_calloc(r->arena, (size_t)(n > 0 ? n : 1), sizeof *offs);
    if (offs == NULL)
        return;
    int k = 0;
    for (int32_t i = 0; i < q->topics.n; i++) {
        for (int32_t j = 0; j < q->topics.v[i].partitions.n; j++) {
            const wr_kp_txn_offset_commit_req_txn_offset_commit_request_partition *p =
                &q->topics.v[i].partitions.v[j];
            offs[k++] = (wr_txn_offset){q->topics.v[i].name.s,   p->partition_index,
                                        p->committed_offset,     p->committed_leader_epoch,
                                        p->committed_metadata.s, WR_KERR_NONE};
        }
    }
    wr_txn_offset_commit(r->conn->b->txn, q->transactional_id.s, q->producer_id, q->producer_epoch,
                         q->group_id.s, offs, n);
    k = 0;
    for (int32_t i = 0; i < s->topics.n; i++)
        for (int32_t j = 0; j < s->topics.v[i].partitions.n; j++)
            s->topics.v[i].partitions.v[j].error_code = fenced_for(offs[k++].error, v, 3);
}

void
wr__kh_txn_offset_commit(wr_kreq *r)
{
    const wr_kp_txn_offset_commit_req *q = r->body;
    int16_t v = r->hdr.api_version;
    wr_kp_txn_offset_commit_resp *s = wr_kp_new(r->arena, &wr_kp_txn_offset_commit_resp_desc, v);
    r->resp = s;
    int32_t nt = q->topics.n > 0 ? q->topics.n : 0;
    s->topics.n = nt;
    s->topics.v = wr_kp_new_array(
        r->arena, &wr_kp_txn_offset_commit_resp_txn_offset_commit_response_topic_desc, nt, v);
    for (int32_t i = 0; i < nt; i++) {
        s->topics.v[i].name = q->topics.v[i].name;
        int32_t np = q->topics.v[i].partitions.n > 0 ? q->topics.v[i].partitions.n : 0;
        s->topics.v[i].partitions.n = np;
        s->topics.v[i].partitions.v = wr_kp_new_array(
            r->arena, &wr_kp_txn_offset_commit_resp_txn_offset_commit_response_partition_desc, np,
            v);
        for (int32_t j = 0; j < np; j++) {
            s->topics.v[i].partitions.v[j].partition_index =
                q->topics.v[i].partitions.v[j].partition_index;
            s->topics.v[i].partitions.v[j].error_code = WR_KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    wr__kreq_queue_work(r, txn_offset_commit_work);
}
