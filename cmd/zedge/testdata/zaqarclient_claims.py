"""python-zaqarclient: claims (create with ttl+grace, create without arguments, get/iterate, update, release),
deleting a claimed message through the claimed Message object, and the 403 without the claim."""

from zqtest import (bare_message, check, eq, errors, id_of, make_client, mid, raises, run)


def main():
    producer = make_client()
    worker = make_client()
    q = producer.queue('pyc', force_create=True)
    wq = worker.queue('pyc')

    # ttl 60: claiming with ttl 100 + grace 60 extends the messages' lifetime to 160 (spec 8.3).
    res = q.post([{'body': {'job': i}, 'ttl': 60} for i in range(5)])
    ids = [id_of(h) for h in res['resources']]

    claim = wq.claim(ttl=100, grace=60, limit=2)
    check(claim.id, 'claim id parsed from the first message href')
    claimed = list(claim)
    eq([m.id for m in claimed], ids[:2], 'claimed the two oldest messages')
    for m in claimed:
        eq(m.claim_id, claim.id, 'claimed message href carries the claim id')
        eq(m.ttl, 160, 'claimed message ttl extended to claim ttl + grace')
        eq(m.body, {'job': ids.index(m.id)}, 'claimed body')

    # Get the claim (iterate a Claim object built from its id).
    again = wq.claim(id=claim.id)
    eq(again.ttl, 100, 'claim ttl from GET')
    check(0 <= again.age <= 60, 'claim age %r' % again.age)
    eq([mid(m) for m in again], ids[:2], 'claim messages from GET')

    st = q.stats['messages']
    eq((st['total'], st['claimed'], st['free']), (5, 2, 3), 'stats with a live claim')
    eq([m.id for m in wq.messages()], ids[2:], 'listing hides claimed messages')
    eq([m.id for m in wq.messages(include_claimed=True)], ids, 'listing with include_claimed')

    # Another claim gets the remaining messages only.
    other = make_client().queue('pyc').claim(ttl=100, grace=60, limit=10)
    eq([m.id for m in other], ids[2:], 'second claim gets the unclaimed rest')
    other.delete()  # release

    # Renew: ttl 200 (grace defaults to 60) -> message ttl 260.
    claim.update(ttl=200)
    renewed = wq.claim(id=claim.id)
    eq(renewed.ttl, 200, 'claim ttl after update')
    eq([m.ttl for m in renewed], [260, 260], 'message ttl after the claim update')

    # A claimed message cannot be deleted without its claim ...
    err = raises(errors.ForbiddenError, lambda: bare_message(q, ids[0]).delete(), 'delete a claimed message without the claim')
    check('claimed' in str(err), 'the 403 explains the claim: %s' % err)
    # ... but can be through the claimed Message object (DELETE ...?claim_id=<cid>).
    claimed[0].delete()
    raises(errors.ResourceNotFound, lambda: q.message(ids[0]), 'get a message deleted under its claim')
    eq([mid(m) for m in wq.claim(id=claim.id)], [ids[1]], 'claim after one of its messages was deleted')

    # Release: the message is visible and claimable again.
    claim.delete()
    claim.delete()  # idempotent
    eq(q.stats['messages']['claimed'], 0, 'nothing claimed after the release')
    eq([m.id for m in wq.messages()], ids[1:], 'listing after the release')
    raises(errors.ResourceNotFound, lambda: list(wq.claim(id=claim.id)), 'get a released claim')

    # q.claim() without arguments sends {"ttl": null, "grace": null}: zedge applies the defaults (spec 14 #4).
    default = wq.claim()
    eq([m.id for m in default], ids[1:], 'claim with defaults takes up to 10 messages')
    eq(wq.claim(id=default.id).ttl, 300, 'default claim ttl')

    # Nothing left to claim: the server answers 204 and the client has no claim id.
    empty = wq.claim(ttl=60, grace=60)
    eq(empty.id, None, 'claim on an exhausted queue')
    eq(list(empty), [], 'no messages in an empty claim')
    eq(make_client().queue('pyc-missing').claim(ttl=60, grace=60).id, None, 'claim on a missing queue')

    # Out-of-range ttl is refused with 400.
    raises(errors.MalformedRequest, lambda: wq.claim(ttl=10, grace=60), 'claim ttl 10')
    raises(errors.MalformedRequest, lambda: wq.claim(ttl=60, grace=60, limit=21), 'claim limit 21')

    # Delete the claimed messages with the claim from the no-argument claim.
    for m in wq.claim(id=default.id):
        m.delete()
    eq(q.stats['messages']['total'], 0, 'all messages deleted')


run(main)
