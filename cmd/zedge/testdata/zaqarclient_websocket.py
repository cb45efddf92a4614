"""python-zaqarclient's websocket transport, unchanged, against zedge's websocket listener.

Run by a Go test as: python3 zaqarclient_websocket.py <ws-url> <project> <token>
The transport authenticates first (X-Auth-Token, Client-ID, X-Project-ID), then sends each operation with
everything in the body, reads one frame per request and raises on a status of 400 and above. It exits 0 and
prints "ok" when every check passed; otherwise it prints FAIL with the reason and exits 1.
"""

import json
import sys
import traceback

from zaqarclient import transport
from zaqarclient.transport import errors
from zaqarclient.transport import request

URL, PROJECT, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    conf = {'auth_opts': {'backend': 'keystone',
                          'options': {'os_auth_token': TOKEN, 'os_project_id': PROJECT}}}
    with transport.get_transport_for(URL, version=2, options=conf) as ws:
        def send(operation, content):
            return ws.send(request.Request(URL, operation, content=json.dumps(content)))

        resp = send('queue_create', {'queue_name': 'pyws'})
        check(resp.status_code == 201, 'queue_create status %s' % resp.status_code)
        check(json.loads(resp.content) == 'Queue pyws created.', 'queue_create body %s' % resp.content)

        resp = send('message_post', {'queue_name': 'pyws',
                                     'messages': [{'body': {'temp': 21.5}, 'ttl': 300},
                                                  {'body': 'on', 'ttl': 300}]})
        check(resp.status_code == 201, 'message_post status %s' % resp.status_code)
        ids = json.loads(resp.content)['message_ids']
        check(len(ids) == 2, 'message_post ids %s' % ids)

        resp = send('message_list', {'queue_name': 'pyws', 'echo': True})
        check(resp.status_code == 200, 'message_list status %s' % resp.status_code)
        listed = json.loads(resp.content)['messages']
        check([m['id'] for m in listed] == ids, 'message_list ids %s' % listed)
        check(listed[0]['body'] == {'temp': 21.5} and listed[0]['claim_id'] is None and 'href' not in listed[0],
              'message_list item %s' % listed[0])

        resp = send('claim_create', {'queue_name': 'pyws', 'ttl': 300, 'grace': 60, 'limit': 1})
        check(resp.status_code == 201, 'claim_create status %s' % resp.status_code)
        claim = json.loads(resp.content)
        check(len(claim['messages']) == 1 and claim['messages'][0]['claim_id'] == claim['claim_id'],
              'claim_create body %s' % claim)

        # Errors surface as the client's typed errors, with the server's text.
        try:
            send('queue_get_stats', {'queue_name': 'missing-queue'})
            raise AssertionError('queue_get_stats of a missing queue did not raise')
        except errors.ResourceNotFound:
            pass
        try:
            send('message_post', {'queue_name': 'pyws', 'messages': [{'body': 1, 'ttl': 1}]})
            raise AssertionError('a too short ttl did not raise')
        except errors.MalformedRequest:
            pass


if __name__ == '__main__':
    try:
        main()
    except Exception:
        traceback.print_exc()
        print('FAIL')
        sys.exit(1)
    print('ok')
