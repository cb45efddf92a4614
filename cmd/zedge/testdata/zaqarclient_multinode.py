"""python-zaqarclient against two zedge nodes sharing one Redis Cluster: what one node accepts the other lists
(queues, metadata, messages, stats), and two workers, one per node, claim disjoint messages and delete them under
their claims. Run as: python3 zaqarclient_multinode.py <url of node A> <project> <url of node B>"""

from zaqarclient.queues.v2 import client as zclient

from zqtest import ARGS, PROJECT, bare_message, check, eq, errors, id_of, raises, run
import zqtest


def client_for(url):
    conf = {'auth_opts': {'backend': 'noauth', 'options': {'os_project_id': PROJECT}}}
    return zclient.Client(url, version=2, conf=conf)


def main():
    check(len(ARGS) == 1, 'usage: <url A> <project> <url B>')
    a = client_for(zqtest.URL)
    b = client_for(ARGS[0])

    # Queues: created on either node, listed on both, with the same metadata.
    qa = a.queue('mn-jobs', force_create=True)
    qa.metadata(new_meta={'site': 'campus-1', '_default_message_ttl': 600})
    b.queue('mn-from-b', force_create=True)
    for name, c in (('A', a), ('B', b)):
        it, count = c.queues(with_count=True)
        eq(sorted(q.name for q in it), ['mn-from-b', 'mn-jobs'], 'queues listed on node %s' % name)
        eq(count, 2, 'queue count on node %s' % name)
    meta = b.queue('mn-jobs').metadata(force_reload=True)
    eq(meta.get('site'), 'campus-1', 'metadata set on A, read on B')
    eq(meta.get('_default_message_ttl'), 600, 'reserved metadata set on A, read on B')

    # Messages posted on A are listed, fetched and counted on B, in post order.
    res = qa.post([{'body': {'job': i}, 'ttl': 300} for i in range(6)])
    ids = [id_of(h) for h in res['resources']]
    qb = b.queue('mn-jobs')
    eq([m.id for m in qb.messages(echo=True)], ids, 'messages of A listed on B')
    eq(qb.message(ids[3]).body, {'job': 3}, 'message of A fetched on B')
    eq(qb.stats['messages']['total'], 6, 'stats on B')

    # Two workers, one per node: disjoint claims that together take every message.
    claim_a = a.queue('mn-jobs').claim(ttl=120, grace=60, limit=3)
    claim_b = b.queue('mn-jobs').claim(ttl=120, grace=60, limit=5)
    msgs_a, msgs_b = list(claim_a), list(claim_b)
    got_a = [m.id for m in msgs_a]
    got_b = [m.id for m in msgs_b]
    eq(len(got_a), 3, 'worker on A claimed 3')
    eq(len(got_b), 3, 'worker on B claimed the other 3')
    eq(set(got_a) & set(got_b), set(), 'the two claims are disjoint')
    eq(sorted(got_a + got_b), sorted(ids), 'together they claimed every message')
    err = raises(errors.ForbiddenError, lambda: bare_message(qb, got_a[0]).delete(),
                 'B deletes a message A claimed, without the claim')
    check('claimed' in str(err), 'the 403 explains the claim: %s' % err)
    eq(qa.stats['messages']['claimed'], 6, 'both claims counted on A')

    # Each worker acknowledges on its own node; the other node sees the queue empty.
    for m in msgs_a + msgs_b:
        m.delete()  # DELETE ...?claim_id=<its claim>, each on the node its worker uses
    eq(qa.stats['messages']['total'], 0, 'nothing left, seen on A')
    eq(list(qb.messages(echo=True, include_claimed=True)), [], 'nothing left, seen on B')

    # Deleting the queue on B removes it for A.
    qb.delete()
    it, _ = a.queues()
    eq(sorted(q.name for q in it), ['mn-from-b'], 'queue deleted on B is gone on A')


run(main)
