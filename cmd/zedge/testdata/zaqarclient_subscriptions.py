"""python-zaqarclient: subscriptions create/list/get/update/delete (CRUD only, no delivery), and purge of them."""

from zqtest import (check, eq, errors, make_client, raises, run)


def main():
    cli = make_client()
    # Creating a subscription auto-creates the queue; the client then GETs it with the same JSON body.
    sub = cli.subscription('pys', subscriber='http://127.0.0.1:9/hook', ttl=3600,
                           options={'post_headers': {'X-Custom': 'abc'}})
    check(sub.id, 'subscription id')
    eq(sub.subscriber, 'http://127.0.0.1:9/hook', 'subscriber after create')
    eq(sub.ttl, 3600, 'ttl after create')
    eq(sub.options, {'post_headers': {'X-Custom': 'abc'}}, 'options after create')
    eq(sub.confirmed, False, 'a new subscription is unconfirmed')
    check(sub.age is not None and 0 <= sub.age <= 60, 'age %r' % sub.age)

    mail = cli.subscription('pys', subscriber='mailto:ops@example.com', ttl=600)
    check(mail.id and mail.id != sub.id, 'second subscription id')

    # An unconfirmed duplicate gives the existing id again (spec 6.12).
    dup = cli.subscription('pys', subscriber='http://127.0.0.1:9/hook', ttl=120)
    eq(dup.id, sub.id, 'duplicate subscription id')
    eq(dup.ttl, 3600, 'a duplicate does not change the ttl')

    it, _ = cli.queues()
    eq([q.name for q in it], ['pys'], 'the queue was created by the subscription')

    listed = list(cli.subscriptions('pys'))
    eq(sorted(s.id for s in listed), sorted([sub.id, mail.id]), 'listed subscriptions')
    by_id = {s.id: s for s in listed}
    eq(by_id[mail.id].subscriber, 'mailto:ops@example.com', 'listed subscriber')
    eq(by_id[mail.id].ttl, 600, 'listed ttl')
    eq(by_id[sub.id].queue_name, 'pys', 'listed source')
    eq([s.id for s in cli.queue('pys').subscriptions()], [s.id for s in listed], 'Queue.subscriptions()')

    # Update replaces options wholesale and can change the subscriber.
    sub.update({'subscriber': 'https://127.0.0.1:9/other', 'options': {'k': 'v'}, 'ttl': 7200})
    got = cli.subscription('pys', id=sub.id)
    eq((got.subscriber, got.options, got.ttl), ('https://127.0.0.1:9/other', {'k': 'v'}, 7200), 'after update')

    # Changing to a subscriber already used in the queue conflicts.
    raises(errors.ConflictError, lambda: sub.update({'subscriber': 'mailto:ops@example.com'}), 'update to a duplicate')
    # Unsupported scheme and too small a ttl are refused.
    raises(errors.MalformedRequest, lambda: cli.subscription('pys', subscriber='ftp://x/y', ttl=3600), 'ftp subscriber')
    raises(errors.MalformedRequest, lambda: cli.subscription('pys', subscriber='http://x/y', ttl=10), 'ttl 10')

    sub.delete()
    sub.delete()  # idempotent
    raises(errors.ResourceNotFound, lambda: cli.subscription('pys', id=sub.id), 'get a deleted subscription')
    eq([s.id for s in cli.subscriptions('pys')], [mail.id], 'listing after a delete')

    # Purging subscriptions removes the rest.
    cli.queue('pys').purge(resource_types=['subscriptions'])
    eq(list(cli.subscriptions('pys')), [], 'listing after a purge')


run(main)
