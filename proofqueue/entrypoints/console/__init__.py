"""The web console (``GET /console`` on ``proofqueue serve``): what an on-call operator
looks at during a vendor outage. Server-rendered (Jinja2 templates shipped in the package)
with htmx vendored in the package (``static/VENDORED.md``): no build step, no CDN, works
offline. The timeline chart is inline SVG laid out on the server (``chart``).

    route                                   who (role)          what
    GET  /console                           anyone              the page (no data in it)
    GET  /console/static/{file}             anyone              htmx, the script, the styles
    GET  /console/p/whoami                  operator, auditor   the token's name and role
    GET  /console/p/controls                operator, auditor   hold/release (operator only)
    GET  /console/p/breaker[?minutes=]      operator, auditor   state, live window, timeline
    GET  /console/p/workers                 operator, auditor   workers and their liveness
    GET  /console/p/intents?status=&actor=&target=&older_than=&page=
                                            operator, auditor   the operator list, 50 a page
    GET  /console/p/intent?id=              operator, auditor   trail, verification, receipt
    GET  /console/p/cancel-form?id=         operator            the cancel form (a reason)
    POST /console/a/retry|cancel            operator            one intent (form fields)
    POST /console/a/hold|release            operator            the vendor
    POST /console/a/bulk-preview|bulk       operator            retry/cancel all matching

Access. The page carries no data and needs no token. Its script (``static/console.js``)
asks for an access token once, keeps it in the tab's ``sessionStorage`` (gone when the tab
closes) and htmx sends it as ``Authorization: Bearer`` on every fragment and action. No
cookie is ever set or read, so a cross-site form cannot act as the operator (no CSRF
surface), and the Host/Origin guard of the API applies as everywhere. Roles are checked on
the server for each fragment and action: an operator sees and acts; an auditor sees
everything and gets no action (403 if it tries); an agent is refused (403: agents read
their own receipts through the API). Actions are recorded with the token's name.

Every answer carries a strict Content-Security-Policy (``script-src 'self'``, no inline
script or style, ``frame-ancestors 'none'``), ``X-Frame-Options: DENY`` and
``Referrer-Policy: no-referrer`` (set by the API's guard). The page refreshes its fragments
every 3 seconds while open (htmx polling) and after each action.
"""
