"""Shared helpers for the python-zaqarclient end-to-end scripts.

Each script is run by a Go test as: python3 <script> <base-url> <project> [extra args...]
It exits 0 and prints "ok" when every check passed; otherwise it prints FAIL with the reason and exits 1.
The client is used unchanged, exactly as an application would use it.
"""

import sys
import traceback

from zaqarclient.queues.v2 import client as zclient
from zaqarclient.queues.v2 import message as zmessage
from zaqarclient.transport import errors  # noqa: F401  (re-exported for the scripts)

URL = sys.argv[1]
PROJECT = sys.argv[2]
ARGS = sys.argv[3:]

# The reserved metadata a queue reports when nothing is stored (spec section 7).
DEFAULT_METADATA = {
    '_max_messages_post_size': 262144,
    '_default_message_ttl': 3600,
    '_default_message_delay': 0,
    '_dead_letter_queue': None,
    '_dead_letter_queue_messages_ttl': None,
    '_max_claim_count': None,
    '_enable_encrypt_messages': False,
}


class Failure(Exception):
    pass


def make_client(project=None, client_uuid=None):
    conf = {'auth_opts': {'backend': 'noauth',
                          'options': {'os_project_id': project or PROJECT}}}
    if client_uuid:
        conf['client_uuid'] = client_uuid
    return zclient.Client(URL, version=2, conf=conf)


def check(cond, what):
    if not cond:
        raise Failure(what)


def eq(got, want, what):
    if got != want:
        raise Failure('%s: got %r, want %r' % (what, got, want))


def raises(exc_type, fn, what):
    """Call fn and require it to raise exc_type; return the exception."""
    try:
        fn()
    except exc_type as exc:
        return exc
    except Exception as exc:  # the wrong error is a failure too
        raise Failure('%s: raised %s(%s), want %s' % (what, type(exc).__name__, exc, exc_type.__name__))
    raise Failure('%s: no error raised, want %s' % (what, exc_type.__name__))


def id_of(href):
    return href.split('?')[0].split('/')[-1]


def bare_message(queue, message_id):
    """A client Message object for an id, with a plain href (no claim_id), as a listing would give."""
    return zmessage.Message(queue, ttl=0, age=0, body=None,
                            href='/v2/queues/%s/messages/%s' % (queue.name, message_id))


def mid(message):
    """The id of a client Message. A Claim fetched by id (GET) yields the client's v1 Message objects, which keep the
    id in `_id`; listings, gets and new claims yield v2 ones with `id`."""
    return getattr(message, 'id', None) or message._id


def run(main):
    try:
        main()
    except Failure as exc:
        traceback.print_exc()
        print('FAIL: %s' % exc, file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        traceback.print_exc()
        print('FAIL: unexpected %s: %s' % (type(exc).__name__, exc), file=sys.stderr)
        sys.exit(1)
    print('ok')
