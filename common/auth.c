/* Wire protocol v2 cryptography (see auth.h): libsodium does all of it. */
#include <string.h>
#include <sodium.h>
#include "auth.h"

#define PORT_LABEL "scramble v2 port"
#define TAG_LABEL  "scramble v2 auth"

int auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void auth_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

uint32_t auth_step(time_t unix_time)
{
	return (uint32_t)((uint64_t)unix_time / 3600);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ADDR: family byte, then 16 address bytes */
static void put_addr(uint8_t p[17], const struct ipaddr *a)
{
	memset(p, 0, 17);
	p[0] = a->family == AF_INET ? 4 : 6;
	memcpy(p + 1, a->bytes, a->family == AF_INET ? 4 : 16);
}

uint16_t auth_port(const uint8_t key[AUTH_KEY_BYTES], const struct auth_line *l, uint32_t step,
		   const struct ipaddr *client, struct port_range r)
{
	uint8_t msg[sizeof PORT_LABEL - 1 + 2 + AUTH_NONCE_BYTES + 4 + 17], out[8], *p = msg;
	uint64_t v = 0;

	memcpy(p, PORT_LABEL, sizeof PORT_LABEL - 1);
	p += sizeof PORT_LABEL - 1;
	put16(p, l->decoy);
	p += 2;
	memcpy(p, l->nonce, AUTH_NONCE_BYTES);
	p += AUTH_NONCE_BYTES;
	p[0] = (uint8_t)(step >> 24);
	p[1] = (uint8_t)(step >> 16);
	p[2] = (uint8_t)(step >> 8);
	p[3] = (uint8_t)step;
	p += 4;
	put_addr(p, client);
	crypto_generichash(out, sizeof out, msg, sizeof msg, key, AUTH_KEY_BYTES);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | out[i];
	return (uint16_t)(r.lo + v % ((uint64_t)r.hi - r.lo + 1));
}

/* The authenticated message; its length, or 0 if name is too long. */
static size_t tag_msg(uint8_t *msg, const struct auth_line *l, const struct ipaddr *client,
		      const char *name)
{
	size_t nl = strlen(name), n = 0;

	if (nl > AUTH_NAME_MAX)
		return 0;
	memcpy(msg, TAG_LABEL, sizeof TAG_LABEL - 1);
	n += sizeof TAG_LABEL - 1;
	memcpy(msg + n, l->nonce, AUTH_NONCE_BYTES);
	n += AUTH_NONCE_BYTES;
	put16(msg + n, l->decoy);
	n += 2;
	put_addr(msg + n, client);
	n += 17;
	msg[n++] = (uint8_t)nl;
	memcpy(msg + n, name, nl);
	return n + nl;
}

#define TAG_MSG_MAX (sizeof TAG_LABEL - 1 + AUTH_NONCE_BYTES + 2 + 17 + 1 + AUTH_NAME_MAX)

int auth_tag(uint8_t tag[AUTH_TAG_BYTES], const uint8_t key[AUTH_KEY_BYTES],
	     const struct auth_line *l, const struct ipaddr *client, const char *name)
{
	uint8_t msg[TAG_MSG_MAX];
	size_t n = tag_msg(msg, l, client, name);

	if (n == 0)
		return -1;
	crypto_auth(tag, msg, n, key);
	return 0;
}

int auth_verify(const uint8_t tag[AUTH_TAG_BYTES], const uint8_t key[AUTH_KEY_BYTES],
		const struct auth_line *l, const struct ipaddr *client, const char *name)
{
	uint8_t msg[TAG_MSG_MAX];
	size_t n = tag_msg(msg, l, client, name);

	if (n == 0)
		return -1;
	return crypto_auth_verify(tag, msg, n, key) == 0 ? 0 : -1;
}

int auth_client(const uint8_t key[AUTH_KEY_BYTES], const char *name, const struct auth_line *l,
		time_t now, const struct ipaddr *me, struct port_range r,
		uint8_t tag[AUTH_TAG_BYTES])
{
	if (auth_tag(tag, key, l, me, name) < 0)
		return -1;
	return auth_port(key, l, auth_step(now), me, r);
}
