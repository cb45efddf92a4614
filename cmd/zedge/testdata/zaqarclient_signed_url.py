"""python-zaqarclient's signed-url backend (auth_opts backend: signed-url, spec section 12) against zedge.

Args: [read-write share JSON, read-only share JSON]. Without them the script gets both from the share endpoint
with a noauth client (q.signed_url); with them (zedge in jwt mode, where a noauth client cannot share) it uses
the given ones, as printed by `zedge sign -json`.
"""

import json

from zaqarclient.queues.v2 import client as zclient

from zqtest import ARGS, PROJECT, URL, eq, errors, make_client, raises, run

QUEUE = 'signed-q'


def signed_client(share, project=PROJECT):
    conf = {'auth_opts': {'backend': 'signed-url',
                          'options': {'signature': share['signature'], 'expires': share['expires'],
                                      'methods': share['methods'], 'paths': share['paths'],
                                      'os_project_id': project}}}
    return zclient.Client(URL, version=2, conf=conf)


def flip_last(sig):
    return sig[:-1] + ('1' if sig[-1] == '0' else '0')


def main():
    if ARGS:
        share, read_only = json.loads(ARGS[0]), json.loads(ARGS[1])
    else:
        owner = make_client()
        q = owner.queue(QUEUE, force_create=True)
        share = q.signed_url(paths=['messages'], ttl_seconds=3600, methods=['GET', 'POST'])
        read_only = q.signed_url(paths=['messages'])  # methods default to GET, expiry to a day
        eq(read_only['methods'], ['GET'], 'default methods of a share')
    eq(share['project'], PROJECT, 'project of the share')
    eq(share['paths'], ['/v2/queues/%s/messages' % QUEUE], 'paths of the share')
    eq(share['methods'], ['GET', 'POST'], 'methods of the share (sorted)')

    sq = signed_client(share).queue(QUEUE)
    res = sq.post([{'body': {'celsius': 21.5}, 'ttl': 300}, {'body': 'two'}])
    eq(len(res['resources']), 2, 'posted with the signed URL')
    eq([m.body for m in sq.messages(echo=True)], [{'celsius': 21.5}, 'two'], 'listed with the signed URL')
    first = res['resources'][0].split('/')[-1]
    eq(sq.message(first).body, {'celsius': 21.5}, 'messages/{id} is covered by messages')

    # Outside the grant: every refusal is Zaqar's bare 404, which the client raises as ResourceNotFound.
    raises(errors.ResourceNotFound, lambda: sq.stats, 'stats is not covered')
    raises(errors.ResourceNotFound, lambda: signed_client(share).queue(QUEUE + 'x').post([{'body': 1}]),
           'a queue sharing the prefix')
    raises(errors.ResourceNotFound, lambda: signed_client(share).queue('other-q').post([{'body': 1}]),
           'another queue')
    raises(errors.ResourceNotFound, lambda: signed_client(share, 'other-project').queue(QUEUE).post([{'body': 1}]),
           'another project')
    ro = signed_client(read_only).queue(QUEUE)
    eq(len(list(ro.messages(echo=True))), 2, 'a read-only URL lists')
    raises(errors.ResourceNotFound, lambda: ro.post([{'body': 1}]), 'a read-only URL cannot post')
    tampered = dict(share, signature=flip_last(share['signature']))
    raises(errors.ResourceNotFound, lambda: signed_client(tampered).queue(QUEUE).post([{'body': 1}]),
           'a tampered signature')
    later = dict(share, expires='2099-01-01T00:00:00')
    raises(errors.ResourceNotFound, lambda: signed_client(later).queue(QUEUE).post([{'body': 1}]),
           'an altered expiry')
    eq(len(list(sq.messages(echo=True))), 2, 'refused requests stored nothing')


run(main)
