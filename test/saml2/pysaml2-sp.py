#!/usr/bin/python3
"""A SAML 2.0 service provider made of pysaml2 (Debian's python3-pysaml2), for Gatehouse's tests.

    pysaml2-sp.py CONFIG.json metadata   prints the SP's metadata (pysaml2's own) and exits
    pysaml2-sp.py CONFIG.json serve      serves the SP on 127.0.0.1:PORT until killed

CONFIG.json: entityId, baseUrl (http://127.0.0.1:PORT), port, keyFile, certFile, idpMetadataFile (serve),
sloBinding ('redirect', the default, or 'post': the binding of its SingleLogoutService).
Every SAML decision (signatures, conditions, bindings) is pysaml2's; this file only wires its calls to
HTTP. What pysaml2 concluded is answered as JSON (and kept in a list the test reads: GET /events), and
the messages it sends are passed on as it made them, so the test asserts what pysaml2 itself does.
"""
import json
import sys
import traceback
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256, DIGEST_SHA256



def sp_config(cfg):
    base = cfg['baseUrl']
    conf = {
        'entityid': cfg['entityId'],
        'xmlsec_binary': '/usr/bin/xmlsec1',
        'key_file': cfg['keyFile'],
        'cert_file': cfg['certFile'],
        # pysaml2 7.0.1 reads these two back from the wrong place (config.getattr looks for _sp_...), so it
        # falls back to RSA-SHA1; each call below passes RSA-SHA256 / SHA-256 itself, as pysaml2 allows.
        'signing_algorithm': SIG_RSA_SHA256,
        'digest_algorithm': DIGEST_SHA256,
        'accepted_time_diff': 60,
        # Report Gatehouse's attributes by their SAML names (pysaml2 drops names it has no converter for).
        'allow_unknown_attributes': True,
        'service': {
            'sp': {
                'endpoints': {
                    'assertion_consumer_service': [(base + '/acs', BINDING_HTTP_POST)],
                    'single_logout_service': [
                        (base + '/slo', BINDING_HTTP_POST if cfg.get('sloBinding') == 'post' else BINDING_HTTP_REDIRECT)],
                },
                'name_id_format': [NAMEID_FORMAT_PERSISTENT],
                'authn_requests_signed': True,
                'logout_requests_signed': True,
                'logout_responses_signed': True,
                'want_assertions_signed': True,
                'want_response_signed': False,
                'allow_unsolicited': False,
            },
        },
    }
    if cfg.get('idpMetadataFile'):
        conf['metadata'] = {'local': [cfg['idpMetadataFile']]}
    config = SPConfig()
    config.load(conf)
    return config


class State:
    def __init__(self, cfg):
        self.client = Saml2Client(config=sp_config(cfg))
        self.idp = next(iter(self.client.metadata.identity_providers()))
        self.outstanding = {}  # AuthnRequest ID -> the URL it came for
        self.sessions = {}  # our cookie -> the NameID pysaml2 took from the assertion
        self.events = []


class Handler(BaseHTTPRequestHandler):
    state = None  # type: State
    cookie_name = 'pysaml2_sp'

    def log_message(self, fmt, *args):  # the test reads /events; stderr stays for failures
        pass

    def answer(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, http_args, extra_headers=()):
        location = dict(http_args['headers'])['Location']
        self.answer(303, None, [('Location', location), *extra_headers])

    def session(self):
        cookie = SimpleCookie(self.headers.get('Cookie', ''))
        sid = cookie[self.cookie_name].value if self.cookie_name in cookie else None
        return sid, self.state.sessions.get(sid)

    def query(self):
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    def form(self):
        length = int(self.headers.get('Content-Length', '0'))
        return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}

    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def dispatch(self, method):
        path = urlsplit(self.path).path
        try:
            if path == '/events' and method == 'GET':
                return self.answer(200, self.state.events)
            if path == '/login' and method == 'GET':
                return self.login()
            if path == '/acs' and method == 'POST':
                return self.acs(self.form())
            if path == '/logout' and method == 'GET':
                return self.logout()
            if path == '/slo' and method == 'GET':
                return self.slo_redirect(self.query())
            if path == '/slo' and method == 'POST':
                return self.slo_post(self.form())
            return self.answer(404, {'error': 'no such endpoint'})
        except Exception as e:  # pysaml2 refusing a message raises; the test sees why
            self.state.events.append({'event': 'error', 'path': path, 'error': '%s: %s' % (type(e).__name__, e)})
            traceback.print_exc()
            return self.answer(400, {'error': '%s: %s' % (type(e).__name__, e)})

    def login(self):
        q = self.query()
        req_id, http_args = self.state.client.prepare_for_authenticate(
            entityid=self.state.idp, relay_state=q.get('RelayState', ''), binding=BINDING_HTTP_REDIRECT,
            sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        self.state.outstanding[req_id] = '/'
        self.state.events.append({'event': 'authn_request', 'id': req_id})
        self.redirect(http_args)

    def acs(self, form):
        resp = self.state.client.parse_authn_request_response(
            form['SAMLResponse'], BINDING_HTTP_POST, outstanding=self.state.outstanding)
        if resp is None:
            raise ValueError('pysaml2 returned no response')
        self.state.outstanding.pop(resp.in_response_to, None)
        name_id = resp.name_id
        sid = uuid4().hex
        self.state.sessions[sid] = name_id
        info = resp.session_info()
        result = {
            'event': 'signed_in',
            'issuer': resp.issuer(),
            'inResponseTo': resp.in_response_to,
            'nameId': name_id.text,
            'nameIdFormat': name_id.format,
            'sessionIndex': info.get('session_index'),
            'attributes': resp.ava,
            'assertionSigned': bool(resp.assertion.signature),
        }
        self.state.events.append(result)
        self.answer(200, result, [('Set-Cookie', '%s=%s; Path=/; HttpOnly' % (self.cookie_name, sid))])

    def logout(self):
        sid, name_id = self.session()
        if name_id is None:
            return self.answer(400, {'error': 'not signed in here'})
        answers = self.state.client.global_logout(name_id, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        self.state.events.append({'event': 'logout_started', 'to': list(answers)})
        binding, http_args = answers[self.state.idp]
        if binding != BINDING_HTTP_REDIRECT:
            raise ValueError('pysaml2 chose %s for its LogoutRequest' % binding)
        self.redirect(http_args)

    def slo_redirect(self, q):
        # pysaml2 7 checks an XML signature in a LogoutRequest but not the Redirect binding's query
        # signature; its verify_redirect_signature does that, with the IdP's signing certificate from metadata.
        certs = self.state.client.metadata.certs(self.state.idp, 'idpsso', 'signing')
        if 'SAMLRequest' in q:
            verified = 'Signature' in q and any(
                verify_redirect_signature(q, self.state.client.sec.sec_backend, cert=c) for c in certs)
            if not verified:
                raise ValueError('the LogoutRequest query signature does not verify')
            http_args = self.logout_request(q['SAMLRequest'], BINDING_HTTP_REDIRECT, q.get('RelayState', ''))
            location = dict(http_args['headers'])['Location']
            self.state.events.append({'event': 'logout_request_handled', 'querySignatureVerified': True, 'answer': location})
            return self.redirect(http_args, [('Set-Cookie', '%s=; Path=/; Max-Age=0' % self.cookie_name)])
        if 'SAMLResponse' in q:
            verified = 'Signature' in q and any(
                verify_redirect_signature(q, self.state.client.sec.sec_backend, cert=c) for c in certs)
            resp = self.state.client.parse_logout_request_response(q['SAMLResponse'], BINDING_HTTP_REDIRECT)
            if resp is None:
                raise ValueError('pysaml2 returned no logout response')
            status = resp.response.status.status_code
            result = {
                'event': 'logout_response',
                'querySignatureVerified': verified,
                'issuer': resp.issuer(),
                'inResponseTo': resp.in_response_to,
                'status': status.value,
                'subStatus': status.status_code.value if status.status_code else None,
            }
            done = self.state.client.handle_logout_response(resp)
            result['done'] = done[0] == 0 if isinstance(done, tuple) else False
            sid, _ = self.session()
            self.state.sessions.pop(sid, None)
            self.state.events.append(result)
            return self.answer(200, result)
        return self.answer(400, {'error': 'no SAMLRequest or SAMLResponse'})

    def logout_request(self, saml_request, binding, relay_state):
        sid, name_id = self.session()
        if name_id is None:  # the test's HTTP client sends our cookie; without it, no session here
            raise ValueError('no session at this SP')
        # pysaml2 parses the request and verifies an XML signature in it (against the IdP's metadata).
        http_args = self.state.client.handle_logout_request(
            saml_request, name_id, binding, relay_state=relay_state, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        self.state.sessions.pop(sid, None)
        return http_args

    def slo_post(self, form):
        if 'SAMLRequest' not in form:
            return self.answer(400, {'error': 'no SAMLRequest'})
        http_args = self.logout_request(form['SAMLRequest'], BINDING_HTTP_POST, form.get('RelayState', ''))
        # The HTTP-POST binding: pysaml2's auto-posting HTML form, passed on as it made it.
        self.state.events.append({'event': 'logout_request_handled', 'binding': 'post'})
        data = http_args['data'].encode() if isinstance(http_args['data'], str) else http_args['data']
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Set-Cookie', '%s=; Path=/; Max-Age=0' % self.cookie_name)
        self.end_headers()
        self.wfile.write(data)


def main():
    cfg = json.load(open(sys.argv[1]))
    if sys.argv[2] == 'metadata':
        sys.stdout.write(create_metadata_string(None, config=sp_config(cfg)).decode())
        return
    Handler.state = State(cfg)
    Handler.cookie_name = 'pysaml2_sp_%d' % cfg['port']  # two of these SPs in one test browser keep apart
    server = HTTPServer(('127.0.0.1', cfg['port']), Handler)
    print('listening', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
