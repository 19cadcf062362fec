/* http_state: /state's JSON. See http_state.h. */
#include "http_state.h"

#include "clock.h"
#include "figures.h"
#include "server.h"

static const char *const kinds[] = {
	[FC_HTTP_KIND_OTHER] = "other",	      [FC_HTTP_KIND_STREAM] = "stream",
	[FC_HTTP_KIND_SNAPSHOT] = "snapshot", [FC_HTTP_KIND_PAGE] = "page",
	[FC_HTTP_KIND_STATE] = "state",
};

static void source(struct fc_json *j, const struct fc_http_source *s)
{
	fc_json_object(j, "source");
	fc_json_str(j, "kind", s->device ? "camera" : s->photo ? "photo" : "pattern");
	fc_json_str(j, "device", s->device ? s->device : s->photo ? s->photo : "");
	fc_json_str(j, "format", s->format ? s->format : "");
	fc_json_str(j, "description", s->text ? s->text : "");
	fc_json_uint(j, "width", (uint64_t)s->width);
	fc_json_uint(j, "height", (uint64_t)s->height);
	fc_json_num(j, "fps", s->fps_milli / 1000.0, 3);
	fc_json_end(j);
	fc_json_object(j, "encoder");
	fc_json_str(j, "codec", "jpeg");
	fc_json_uint(j, "quality", (uint64_t)s->quality);
	fc_json_uint(j, "encoders", (uint64_t)s->encoders);
	fc_json_bool(j, "adapt", s->adapt);
	fc_json_end(j);
}

static void http_clients(struct fc_json *j, const struct fc_http_client *list, unsigned connections)
{
	int listed = 0;

	fc_json_object(j, "http");
	fc_json_uint(j, "connections", connections);
	fc_json_array(j, "clients");
	for (const struct fc_http_client *c = list; c && listed < FC_HTTP_STATE_CLIENTS;
	     c = c->next, listed++) {
		fc_json_object(j, NULL);
		fc_json_str(j, "kind", kinds[c->kind]);
		fc_json_str(j, "peer", c->peer);
		fc_json_uint(j, "sent", c->sent);
		fc_json_uint(j, "skipped", c->skipped);
		fc_json_end(j);
	}
	fc_json_end(j);
	fc_json_end(j);
}

static void viewers(struct fc_json *j, const struct fc_viewer_stats *v, int nv)
{
	fc_json_array(j, "viewers");
	for (int i = 0; i < nv; i++) {
		fc_json_object(j, NULL);
		fc_json_uint(j, "id", v[i].id);
		fc_json_str(j, "peer", v[i].peer);
		fc_figures_session_json(j, &v[i].s);
		fc_json_end(j);
	}
	fc_json_end(j);
}

const char *fc_http_state(struct fc_json *j, const struct fc_http_cfg *cfg,
			  const struct fc_http_client *list, unsigned connections,
			  const struct fc_viewer_stats *v, int nv)
{
	fc_json_begin(j);
	fc_json_num(j, "time", (double)fc_clock_real_ns() / 1e9, 6);
	source(j, &cfg->source);
	http_clients(j, list, connections);
	viewers(j, v, nv);
	return fc_json_finish(j);
}
