#include "hello.h"

#include <stdio.h>

#include "clock.h"

const char *fc_hello_role_name(int role)
{
	return role == FC_ROLE_SENDER	? "sender"
	       : role == FC_ROLE_VIEWER ? "viewer"
					: "unknown role";
}

int fc_hello_exchange(struct fc_conn *c, const struct fc_hello *mine, struct fc_hello *theirs,
		      int timeout_ms, char *err, size_t errlen)
{
	struct fc_msg m = { .type = FC_MSG_HELLO };
	char text[FC_PROTO_MAX_TEXT + 1];
	int rc;

	m.u.hello = *mine;
	if (fc_conn_send(c, &m, timeout_ms) < 0) {
		snprintf(err, errlen, "%s: sending HELLO: %s", fc_conn_peer(c), fc_conn_error(c));
		return -1;
	}
	rc = fc_conn_recv(c, &m, timeout_ms);
	if (rc == 0) {
		snprintf(err, errlen, "%s: no HELLO within %d ms (is it a freshcam %s?)",
			 fc_conn_peer(c), timeout_ms,
			 fc_hello_role_name(mine->role == FC_ROLE_SENDER ? FC_ROLE_VIEWER
									 : FC_ROLE_SENDER));
		return -1;
	}
	if (rc < 0) {
		/* Tell the peer why, if it is still there: its version, or what it sent wrong. */
		if (fc_conn_proto_error(c) == FC_PROTO_E_VERSION) {
			snprintf(text, sizeof(text), "%s speaks freshcam protocol %u", mine->name,
				 FC_PROTO_VERSION);
			fc_conn_bye(c, FC_BYE_VERSION, text);
		} else {
			fc_conn_bye(c, FC_BYE_PROTOCOL, fc_conn_error(c));
		}
		snprintf(err, errlen, "%s: %s", fc_conn_peer(c), fc_conn_error(c));
		return -1;
	}
	if (m.type == FC_MSG_BYE) {
		snprintf(err, errlen, "%s said goodbye before starting: %s%s%s", fc_conn_peer(c),
			 fc_proto_bye_reason_name(m.u.bye.reason), m.u.bye.text[0] ? ": " : "",
			 m.u.bye.text);
		return -1;
	}
	if (m.type != FC_MSG_HELLO) {
		snprintf(err, errlen, "%s: expected HELLO, got %s", fc_conn_peer(c),
			 fc_proto_type_name(m.type));
		fc_conn_bye(c, FC_BYE_PROTOCOL, "expected HELLO first");
		return -1;
	}
	if (m.u.hello.role == mine->role) {
		snprintf(text, sizeof(text), "both ends are %ss; connect a sender to a viewer",
			 fc_hello_role_name(mine->role));
		fc_conn_bye(c, FC_BYE_ROLE, text);
		snprintf(err, errlen, "%s (%s): %s", fc_conn_peer(c), m.u.hello.name, text);
		return -1;
	}
	*theirs = m.u.hello;
	return 0;
}
