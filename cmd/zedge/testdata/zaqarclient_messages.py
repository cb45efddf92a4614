"""python-zaqarclient: post, list (echo), get, get-many, delete, bulk delete, pop, paging."""

from zqtest import (bare_message, check, eq, errors, id_of, make_client, raises, run)


def main():
    producer = make_client()
    consumer = make_client()
    q = producer.queue('pym', force_create=True)
    cq = consumer.queue('pym')  # v2 queues are lazy: no request

    bodies = [{'n': 0, 'text': 'h\u00e9llo \u2603'}, 'a string body', [1, 2.5, None, True], None, 42]
    res = q.post([{'body': b, 'ttl': 300} for b in bodies])
    check(isinstance(res, dict) and len(res.get('resources', [])) == len(bodies), 'post reply %r' % (res,))
    ids = [id_of(h) for h in res['resources']]
    eq(len(set(ids)), len(ids), 'distinct message ids')

    # echo=False (the default) hides a client's own messages.
    eq(list(q.messages()), [], 'producer listing without echo')
    mine = list(q.messages(echo=True))
    eq([m.id for m in mine], ids, 'producer listing with echo=True (FIFO)')
    eq([m.body for m in mine], bodies, 'bodies round-trip')
    for m in mine:
        eq(m.ttl, 300, 'listed ttl')
        check(0 <= m.age <= 60, 'listed age %r' % m.age)
        eq(m.href, '/v2/queues/pym/messages/' + m.id, 'listed href')
    eq([m.id for m in cq.messages()], ids, 'consumer listing without echo')

    # Get one and get many (the client sends ?ids=a&ids=b).
    one = q.message(ids[1])
    eq((one.id, one.body, one.ttl), (ids[1], bodies[1], 300), 'get by id')
    many = list(q.messages(ids[0], ids[2], ids[4]))
    eq(sorted(m.id for m in many), sorted([ids[0], ids[2], ids[4]]), 'get many')
    eq({m.id: m.body for m in many}, {ids[0]: bodies[0], ids[2]: bodies[2], ids[4]: bodies[4]}, 'get many bodies')

    # Delete one through its Message object (no claim), then bulk delete two.
    one.delete()
    raises(errors.ResourceNotFound, lambda: q.message(ids[1]), 'get a deleted message')
    bare_message(q, ids[1]).delete()  # deleting again is fine (204)
    q.delete_messages(ids[0], ids[2])
    eq([m.id for m in q.messages(echo=True)], [ids[3], ids[4]], 'listing after deletes')
    raises(errors.ResourceNotFound, lambda: list(q.messages(ids[0], ids[2])), 'get many of deleted messages')

    # Paging: 25 more messages, pages of 10, following the next links.
    more = q.post([{'body': {'i': i}, 'ttl': 300} for i in range(25)])
    more_ids = [id_of(h) for h in more['resources']]
    first = list(q.messages(echo=True, limit=10))
    eq([m.id for m in first], [ids[3], ids[4]] + more_ids[:8], 'first page of 10')
    everything = list(q.messages(echo=True, limit=10).stream())
    eq([m.id for m in everything], [ids[3], ids[4]] + more_ids, 'all pages')
    raises(errors.MalformedRequest, lambda: list(q.messages(echo=True, limit=21)), 'limit 21')

    # Pop takes from the head and deletes.
    popped = list(cq.pop(3))
    eq([m.id for m in popped], [ids[3], ids[4], more_ids[0]], 'popped ids')
    eq([m.body for m in popped], [bodies[3], bodies[4], {'i': 0}], 'popped bodies')
    for m in popped:
        eq(m.claim_count, 0, 'popped claim_count')
    eq(q.stats['messages']['total'], 24, 'total after pop')
    raises(errors.ResourceNotFound, lambda: q.message(ids[3]), 'get a popped message')

    # An empty queue pops nothing.
    empty = producer.queue('pym-empty', force_create=True)
    eq(list(empty.pop(5)), [], 'pop of an empty queue')
    eq(list(producer.queue('pym-missing').pop(1)), [], 'pop of a missing queue')
    eq(list(producer.queue('pym-missing').messages(echo=True)), [], 'list a missing queue')


run(main)
