"""python-zaqarclient: queues, queue listing with count, metadata, stats, purge, ping, health, home document.

Extra argument: "admin" when the server runs with admin_mode (then /v2/health exists but needs the admin role,
which the noauth client does not send: 403), else "noadmin" (then /v2/health is 404).
"""

from zqtest import (ARGS, DEFAULT_METADATA, PROJECT, check, eq, errors, make_client, raises, run)


def main():
    cli = make_client()
    eq(cli.ping(), True, 'ping')

    home = cli.homedoc()
    check(isinstance(home, dict) and 'rel/queues' in home.get('resources', {}),
          'home document lacks resources.rel/queues: %r' % (home,))

    # Nothing yet: an empty listing, no count.
    it, count = cli.queues(with_count=True)
    eq([q.name for q in it], [], 'queues of a new project')

    names = ['pyq-a', 'pyq-b', 'pyq-c']
    for n in names:
        cli.queue(n, force_create=True)  # PUT /v2/queues/<n> -> 201
    cli.queue('pyq-b', force_create=True)  # already there -> 204, still fine

    it, count = cli.queues(limit=2, with_count=True)
    eq(count, 3, 'with_count over all queues of the project')
    eq([q.name for q in it], names[:2], 'first page of queues (limit 2)')

    it, count = cli.queues(limit=2)
    eq(count, None, 'no count without with_count')
    eq([q.name for q in it.stream()], names, 'all queues, following next links')

    it, _ = cli.queues(detailed=True)
    listed = list(it)
    eq([q.name for q in listed], names, 'detailed listing')
    for q in listed:
        eq(q.metadata(), DEFAULT_METADATA, 'detailed metadata of %s' % q.name)

    # Another project sees none of them.
    other = make_client(project=PROJECT + '-other')
    it, _ = other.queues()
    eq([q.name for q in it], [], 'queues of another project')

    q = cli.queue('pyq-a', auto_create=False)
    eq(q.metadata(force_reload=True), DEFAULT_METADATA, 'metadata of a fresh queue')

    # new_meta: the client reads the metadata and sends replace/add/remove operations (spec section 12).
    want = dict(DEFAULT_METADATA, color='blue', n=1, _default_message_ttl=120)
    got = q.metadata(new_meta={'color': 'blue', 'n': 1, '_default_message_ttl': 120})
    eq(got, want, 'metadata after the first new_meta')
    eq(q.metadata(force_reload=True), want, 'metadata reloaded after the first new_meta')

    # The queue's default TTL now applies to messages posted without one.
    q.post({'body': 'uses the queue default ttl'})
    msgs = list(q.messages(echo=True))
    eq([m.ttl for m in msgs], [120], 'ttl from _default_message_ttl')

    # Keys absent from new_meta are removed, reserved ones fall back to their defaults.
    want = dict(DEFAULT_METADATA, color='red')
    eq(q.metadata(new_meta={'color': 'red'}), want, 'metadata after the second new_meta')
    eq(q.metadata(force_reload=True), want, 'metadata reloaded after the second new_meta')
    eq(q.metadata(new_meta={}), DEFAULT_METADATA, 'metadata cleared with new_meta={}')

    # A queue that does not exist still answers its defaults (spec 6.6).
    eq(cli.queue('pyq-none', auto_create=False).metadata(force_reload=True), DEFAULT_METADATA,
       'metadata of a missing queue')

    # Stats.
    b = cli.queue('pyq-b', auto_create=False)
    eq(b.stats, {'messages': {'claimed': 0, 'free': 0, 'total': 0}}, 'stats of an empty queue')
    b.post([{'body': i, 'ttl': 300} for i in range(3)])
    st = b.stats['messages']
    eq((st['total'], st['free'], st['claimed']), (3, 3, 0), 'stats after 3 posts')
    for end in ('oldest', 'newest'):
        check(end in st, 'stats lack %r: %r' % (end, st))
        check(st[end]['href'].startswith('/v2/queues/pyq-b/messages/'), 'stats %s href %r' % (end, st[end]))
        check(st[end]['created'].endswith('Z'), 'stats %s created %r' % (end, st[end]))
        check(st[end]['age'] >= 0, 'stats %s age' % end)

    # Purge messages only, then everything.
    b.purge(resource_types=['messages'])
    eq(b.stats['messages']['total'], 0, 'total after purging messages')
    b.post({'body': 'again', 'ttl': 300})
    b.purge()
    eq(b.stats['messages']['total'], 0, 'total after a full purge')

    # Delete.
    cli.queue('pyq-c', auto_create=False).delete()
    cli.queue('pyq-c', auto_create=False).delete()  # idempotent
    it, count = cli.queues(with_count=True)
    eq([x.name for x in it], ['pyq-a', 'pyq-b'], 'queues after a delete')
    eq(count, 2, 'count after a delete')

    # Invalid queue names are refused by the client itself; a name with a dot is valid for the server.
    raises(ValueError, lambda: cli.queue('bad name', force_create=True), 'client-side name check')

    if ARGS and ARGS[0] == 'admin':
        raises(errors.ForbiddenError, cli.health, 'health without the admin role')
    else:
        raises(errors.ResourceNotFound, cli.health, 'health without admin_mode')


run(main)
