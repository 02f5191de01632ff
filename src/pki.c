/* The cluster's PKI on OpenSSL 3 (see pki.h for the layout).
 *
 * Each certificate kubeup makes is described by a struct ku_want: its file,
 * subject, signer, usages and names, all derived from the spec. The same
 * description makes a certificate, decides whether one on disk still fits
 * (ku_misfit), and checks it in the exit check, so the three cannot drift
 * apart. OpenSSL's error codes stay in this file: every failure becomes a
 * sentence naming the file and the reason.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "i18n.h"
#include "pki.h"

/* Larger files are not what kubeup wrote. */
#define KU_PKI_FILE_MAX (1024 * 1024)

enum ku_ca_id { KU_CA_CLUSTER, KU_CA_ETCD, KU_CA_FRONT_PROXY, KU_CA__COUNT };

static const struct {
	const char *file;   /* under the state directory, without .crt/.key */
	const char *cn;
} ku_ca_defs[KU_CA__COUNT] = {
	[KU_CA_CLUSTER] = { "pki/ca", "kubernetes" },
	[KU_CA_ETCD] = { "pki/etcd/ca", "etcd-ca" },
	[KU_CA_FRONT_PROXY] = { "pki/front-proxy-ca", "front-proxy-ca" },
};

#define KU_EKU_SERVER 1u
#define KU_EKU_CLIENT 2u

enum ku_san_set { KU_SANS_NONE, KU_SANS_APISERVER, KU_SANS_ETCD };

/* The control plane's certificates, with kubeadm's names and subjects
 * (1.29 and later: the apiserver's kubelet client is in
 * kubeadm:cluster-admins, not system:masters). cn NULL: the master's name. */
static const struct ku_leaf_def {
	const char *file;
	enum ku_ca_id signer;
	const char *cn;
	const char *org;
	unsigned eku;
	enum ku_san_set sans;
} ku_control_plane_defs[] = {
	{ "pki/apiserver", KU_CA_CLUSTER, "kube-apiserver", NULL,
	  KU_EKU_SERVER, KU_SANS_APISERVER },
	{ "pki/apiserver-kubelet-client", KU_CA_CLUSTER,
	  "kube-apiserver-kubelet-client", "kubeadm:cluster-admins",
	  KU_EKU_CLIENT, KU_SANS_NONE },
	{ "pki/apiserver-etcd-client", KU_CA_ETCD, "kube-apiserver-etcd-client",
	  NULL, KU_EKU_CLIENT, KU_SANS_NONE },
	{ "pki/etcd/server", KU_CA_ETCD, NULL, NULL,
	  KU_EKU_SERVER | KU_EKU_CLIENT, KU_SANS_ETCD },
	{ "pki/etcd/peer", KU_CA_ETCD, NULL, NULL,
	  KU_EKU_SERVER | KU_EKU_CLIENT, KU_SANS_ETCD },
	{ "pki/etcd/healthcheck-client", KU_CA_ETCD,
	  "kube-etcd-healthcheck-client", NULL, KU_EKU_CLIENT, KU_SANS_NONE },
	{ "pki/front-proxy-client", KU_CA_FRONT_PROXY, "front-proxy-client",
	  NULL, KU_EKU_CLIENT, KU_SANS_NONE },
};

/* The kubeconfigs of the cluster, each with its own client certificate
 * signed by the cluster CA; the user is named after the CN. */
static const struct ku_kubeconfig_def {
	const char *file;
	const char *cn;
	const char *org;
} ku_kubeconfig_defs[] = {
	{ "kubeconfig/admin.conf", "kubernetes-admin",
	  "kubeadm:cluster-admins" },
	{ "kubeconfig/super-admin.conf", "kubernetes-super-admin",
	  "system:masters" },
	{ "kubeconfig/controller-manager.conf",
	  "system:kube-controller-manager", NULL },
	{ "kubeconfig/scheduler.conf", "system:kube-scheduler", NULL },
	{ "kubeconfig/kube-proxy.conf", "system:kube-proxy", NULL },
};

/* What one certificate must be. */
struct ku_want {
	char *file;          /* "pki/apiserver", or a kubeconfig's file */
	char *cn;
	char *org;           /* NULL: no O */
	bool ca;
	enum ku_ca_id signer;
	unsigned eku;
	struct ku_strv sans; /* canonical: "DNS:kubernetes", "IP:10.96.0.1" */
};

struct ku_ca {
	X509 *cert;
	EVP_PKEY *key;
};

/* OpenSSL 3.0 fetches every decoder again for each PEM_read_bio_PrivateKey
 * (about a millisecond); a decoder context made once and reused takes a
 * tenth of that. One context decodes one key at a time, so they are kept
 * in a list and lent out. */
struct ku_decoder {
	OSSL_DECODER_CTX *ctx;
	EVP_PKEY *out;              /* where ctx puts the key it decoded */
	struct ku_decoder *next;
};

struct ku_pki {
	const struct ku_spec *spec;
	const char *state_dir;
	pthread_mutex_t lock;          /* what follows, up to dec_lock */
	bool ready;
	EVP_MD *md;                    /* SHA-256, fetched once */
	EVP_PKEY *ec_params;           /* P-256, for ECDSA keys */
	EVP_PKEY_CTX *rsa_tmpl;        /* RSA, duplicated for each key */
	struct ku_ca cas[KU_CA__COUNT];
	pthread_mutex_t dec_lock;      /* the idle decoders */
	struct ku_decoder *decoders;
};

/* --- small things --- */

/* The first error OpenSSL queued in this thread (usually the cause), as
 * text; the queue is emptied. Caller frees. */
static char *
ku_ossl_error(void)
{
	unsigned long e = ERR_get_error();
	const char *lib, *reason;
	char *s;

	if (e == 0)
		return xstrdup(_("unknown OpenSSL error"));
	lib = ERR_lib_error_string(e);
	reason = ERR_reason_error_string(e);
	if (reason == NULL)
		s = xasprintf(_("OpenSSL error %lu"), e);
	else if (lib)
		s = xasprintf("%s (%s)", reason, lib);
	else
		s = xstrdup(reason);
	ERR_clear_error();
	return s;
}

void
ku_pki_report_free(struct ku_pki_report *rep)
{
	ku_strv_free(&rep->written);
	ku_strv_free(&rep->warnings);
}

static void
ku_warn(struct ku_pki_report *rep, const char *fmt, ...) KU_PRINTF(2, 3);

static void
ku_warn(struct ku_pki_report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (rep)
		ku_strv_push_owned(&rep->warnings, xvasprintf(fmt, ap));
	va_end(ap);
}

static void
ku_want_free(struct ku_want *w)
{
	free(w->file);
	free(w->cn);
	free(w->org);
	ku_strv_free(&w->sans);
	memset(w, 0, sizeof *w);
}

/* "DNS:name" or "IP:address" in canonical text (IPv6 compressed), once. */
static void
ku_san_add(struct ku_strv *sans, const char *v)
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	int family = ku_ip_family(v);
	char *s;

	if (family && inet_pton(family, v, a) == 1 &&
	    inet_ntop(family, a, text, sizeof text) != NULL)
		s = xasprintf("IP:%s", text);
	else
		s = xasprintf("DNS:%s", v);
	if (ku_strv_contains(sans, s))
		free(s);
	else
		ku_strv_push_owned(sans, s);
}

bool
ku_pki_service_ip(const char *cidr, char *out, size_t outlen)
{
	struct ku_cidr c;

	return ku_cidr_parse(cidr, &c) && ku_cidr_nth(&c, 1, out, outlen);
}

static char *
ku_rel(const char *file, const char *ext)
{
	return xasprintf("%s%s", file, ext);
}

static char *
ku_abs(const struct ku_pki *pki, const char *rel)
{
	return ku_path_join(pki->state_dir, rel);
}

/* "2027-11-25 16:24 UTC" */
static void
ku_asn1_time_text(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, outlen, "?");
}

/* --- the context --- */

struct ku_pki *
ku_pki_new(const struct ku_spec *spec, const char *state_dir)
{
	struct ku_pki *pki = xcalloc(1, sizeof *pki);

	pki->spec = spec;
	pki->state_dir = state_dir;
	pthread_mutex_init(&pki->lock, NULL);
	pthread_mutex_init(&pki->dec_lock, NULL);
	return pki;
}

static void
ku_ca_clear(struct ku_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

void
ku_pki_free(struct ku_pki *pki)
{
	if (pki == NULL)
		return;
	for (int i = 0; i < KU_CA__COUNT; i++)
		ku_ca_clear(&pki->cas[i]);
	while (pki->decoders) {
		struct ku_decoder *d = pki->decoders;
		pki->decoders = d->next;
		OSSL_DECODER_CTX_free(d->ctx);
		free(d);
	}
	EVP_MD_free(pki->md);
	EVP_PKEY_free(pki->ec_params);
	EVP_PKEY_CTX_free(pki->rsa_tmpl);
	pthread_mutex_destroy(&pki->lock);
	pthread_mutex_destroy(&pki->dec_lock);
	free(pki);
}

/* Fetches the digest and the key algorithm once per context: every key and
 * every signature after that reuses them. */
static ku_rc
ku_pki_ready(struct ku_pki *pki, char **err)
{
	EVP_PKEY_CTX *pctx = NULL;
	ku_rc rc = KU_OK;
	char *why;

	pthread_mutex_lock(&pki->lock);
	if (pki->ready)
		goto out;
	pki->md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (pki->md == NULL)
		goto fail;
	if (pki->spec->key_type == KU_KEY_ECDSA_P256) {
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (pctx == NULL || EVP_PKEY_paramgen_init(pctx) != 1 ||
		    EVP_PKEY_CTX_set_group_name(pctx, "P-256") != 1 ||
		    EVP_PKEY_paramgen(pctx, &pki->ec_params) != 1)
			goto fail;
	} else {
		pki->rsa_tmpl = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		if (pki->rsa_tmpl == NULL)
			goto fail;
	}
	pki->ready = true;
	goto out;
fail:
	why = ku_ossl_error();
	*err = xasprintf(_("cannot set up %s keys and SHA-256 in OpenSSL: %s"),
	    ku_key_type_name(pki->spec->key_type), why);
	free(why);
	rc = KU_ERR_INVALID;
out:
	EVP_PKEY_CTX_free(pctx);
	pthread_mutex_unlock(&pki->lock);
	return rc;
}

/* --- keys --- */

static int
ku_rsa_bits(enum ku_key_type t)
{
	switch (t) {
	case KU_KEY_RSA_2048: return 2048;
	case KU_KEY_RSA_3072: return 3072;
	case KU_KEY_RSA_4096: return 4096;
	case KU_KEY_ECDSA_P256: break;
	}
	return 0;
}

static ku_rc
ku_keygen(struct ku_pki *pki, EVP_PKEY **out, char **err)
{
	EVP_PKEY_CTX *ctx;
	char *why;
	bool ok;

	*out = NULL;
	if (pki->ec_params) {
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pki->ec_params, NULL);
		ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1;
	} else {
		/* A duplicate keeps the fetched algorithm: nothing is looked up
		 * again. */
		pthread_mutex_lock(&pki->lock);
		ctx = EVP_PKEY_CTX_dup(pki->rsa_tmpl);
		pthread_mutex_unlock(&pki->lock);
		ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx,
		    ku_rsa_bits(pki->spec->key_type)) == 1;
	}
	ok = ok && EVP_PKEY_generate(ctx, out) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (ok)
		return KU_OK;
	why = ku_ossl_error();
	*err = xasprintf(_("cannot generate a %s key: %s"),
	    ku_key_type_name(pki->spec->key_type), why);
	free(why);
	return KU_ERR_INVALID;
}

/* "ecdsa-p256", "rsa-2048" as in answers.conf, or a plain description of
 * a key kubeup would not make. Caller frees. */
static char *
ku_key_desc(const EVP_PKEY *key)
{
	char group[64];

	if (EVP_PKEY_is_a(key, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) != 1)
			snprintf(group, sizeof group, "?");
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0)
			return xstrdup("ecdsa-p256");
		return xasprintf("ecdsa-%s", group);
	}
	if (EVP_PKEY_is_a(key, "RSA"))
		return xasprintf("rsa-%d", EVP_PKEY_get_bits(key));
	return xstrdup(EVP_PKEY_get0_type_name(key) ?
	    EVP_PKEY_get0_type_name(key) : "?");
}

static bool
ku_key_fits(const struct ku_pki *pki, const EVP_PKEY *key)
{
	char *desc = ku_key_desc(key);
	bool fits = strcmp(desc, ku_key_type_name(pki->spec->key_type)) == 0;

	free(desc);
	return fits;
}

/* --- files --- */

/* PEM text of a certificate or a private key. Key text is kept in
 * OpenSSL's secure memory BIO, which clears it when freed. */
static ku_rc
ku_pem_cert(X509 *cert, struct ku_buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_X509(b, cert) != 1) {
		BIO_free(b);
		return KU_ERR_INVALID;
	}
	n = BIO_get_mem_data(b, &p);
	ku_buf_add(out, p, (size_t)n);
	BIO_free(b);
	return KU_OK;
}

static ku_rc
ku_pem_key(EVP_PKEY *key, struct ku_buf *out)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL,
	    NULL) != 1) {
		BIO_free(b);
		return KU_ERR_INVALID;
	}
	n = BIO_get_mem_data(b, &p);
	ku_buf_add(out, p, (size_t)n);
	BIO_free(b);
	return KU_OK;
}

/* Clears and frees a buffer that held key material. */
static void
ku_buf_wipe(struct ku_buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	ku_buf_free(b);
}

static ku_rc
ku_write(struct ku_pki *pki, const char *rel, const void *data, size_t len,
    mode_t mode, struct ku_pki_report *rep, char **err)
{
	char *path = ku_abs(pki, rel);
	ku_rc rc = ku_write_file_atomic(path, data, len, mode);

	if (rc != KU_OK)
		*err = xasprintf(_("%s: cannot write: %s"), path,
		    strerror(errno));
	else if (rep)
		ku_strv_push(&rep->written, rel);
	free(path);
	return rc;
}

/* A folder of the PKI: made when missing, always 0700. */
static ku_rc
ku_private_dir(struct ku_pki *pki, const char *rel, char **err)
{
	char *path = ku_abs(pki, rel);
	struct stat st;
	ku_rc rc = KU_OK;

	if (ku_mkdir_p(path, 0700) != KU_OK || stat(path, &st) != 0 ||
	    ((st.st_mode & 07777) != 0700 && chmod(path, 0700) != 0)) {
		*err = xasprintf(_("%s: cannot create a private folder: %s"),
		    path, strerror(errno));
		rc = KU_ERR_IO;
	}
	free(path);
	return rc;
}

/* Reads a whole small file; NULL with *why (translated) when it cannot. */
static bool
ku_slurp(const char *path, struct ku_buf *out, char **why)
{
	ku_rc rc;

	ku_buf_init(out, 0);
	rc = ku_read_file(path, KU_PKI_FILE_MAX, out);
	if (rc == KU_OK)
		return true;
	*why = rc == KU_ERR_INVALID ?
	    xasprintf(_("larger than %d bytes"), KU_PKI_FILE_MAX) :
	    xasprintf(_("cannot read: %s"), strerror(errno));
	ku_buf_wipe(out);
	return false;
}

static X509 *
ku_parse_cert(const void *data, size_t len, char **why)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	X509 *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	char *e;

	BIO_free(b);
	if (cert == NULL) {
		e = ku_ossl_error();
		*why = xasprintf(_("not a PEM certificate: %s"), e);
		free(e);
	}
	return cert;
}

static EVP_PKEY *
ku_parse_key(struct ku_pki *pki, const void *data, size_t len, char **why)
{
	struct ku_decoder *d;
	const unsigned char *p = data;
	EVP_PKEY *key = NULL;
	char *e;

	pthread_mutex_lock(&pki->dec_lock);
	d = pki->decoders;
	if (d)
		pki->decoders = d->next;
	pthread_mutex_unlock(&pki->dec_lock);
	if (d == NULL) {
		d = xcalloc(1, sizeof *d);
		d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->out, "PEM", NULL,
		    NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	}
	if (d->ctx && OSSL_DECODER_from_data(d->ctx, &p, &len) == 1) {
		key = d->out;
		d->out = NULL;
	}
	EVP_PKEY_free(d->out);
	d->out = NULL;
	if (key == NULL) {
		e = ku_ossl_error();
		*why = xasprintf(_("not a PEM private key: %s"), e);
		free(e);
	}
	if (d->ctx) {
		pthread_mutex_lock(&pki->dec_lock);
		d->next = pki->decoders;
		pki->decoders = d;
		pthread_mutex_unlock(&pki->dec_lock);
	} else {
		free(d);
	}
	return key;
}

static X509 *
ku_read_cert(const struct ku_pki *pki, const char *rel, char **why)
{
	char *path = ku_abs(pki, rel);
	struct ku_buf b;
	X509 *cert = NULL;

	if (ku_slurp(path, &b, why))
		cert = ku_parse_cert(b.data, b.len, why);
	ku_buf_free(&b);
	free(path);
	return cert;
}

static EVP_PKEY *
ku_read_key(struct ku_pki *pki, const char *rel, char **why)
{
	char *path = ku_abs(pki, rel);
	struct ku_buf b;
	EVP_PKEY *key = NULL;

	if (ku_slurp(path, &b, why))
		key = ku_parse_key(pki, b.data, b.len, why);
	ku_buf_wipe(&b);
	free(path);
	return key;
}

static bool
ku_rel_exists(const struct ku_pki *pki, const char *rel)
{
	char *path = ku_abs(pki, rel);
	bool yes = ku_path_exists(path);

	free(path);
	return yes;
}

/* --- names --- */

static X509_NAME *
ku_name(const char *org, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL)
		return NULL;
	if ((org && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)org, -1, -1, 0) != 1) ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

/* "O=system:nodes,CN=system:node:node-1". Caller frees. */
static char *
ku_name_text(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	struct ku_buf out;
	char *p;
	long len;

	ku_buf_init(&out, 0);
	if (b && X509_NAME_print_ex(b, n, 0,
	    XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) >= 0) {
		len = BIO_get_mem_data(b, &p);
		ku_buf_add(&out, p, (size_t)len);
	}
	BIO_free(b);
	return ku_buf_steal(&out);
}

/* The certificate's subject alternative names, canonical as ku_san_add
 * makes them. */
static void
ku_cert_sans(X509 *cert, struct ku_strv *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	char text[INET6_ADDRSTRLEN];

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			ku_strv_push_owned(out, xasprintf("DNS:%.*s",
			    ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s)));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			int len = ASN1_STRING_length(s);
			if ((len == 4 || len == 16) && inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text,
			    sizeof text))
				ku_strv_push_owned(out, xasprintf("IP:%s", text));
			else
				ku_strv_push(out, "IP:?");
		} else {
			ku_strv_push(out, "other:?");
		}
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

static GENERAL_NAMES *
ku_general_names(const struct ku_strv *sans)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

	for (size_t i = 0; gens && i < sans->n; i++) {
		const char *v = sans->v[i];
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_OCTET_STRING *ip = NULL;
		ASN1_IA5STRING *dns = NULL;
		unsigned char a[16];
		bool ok = false;

		if (g && ku_str_has_prefix(v, "IP:")) {
			int family = ku_ip_family(v + 3);
			ip = ASN1_OCTET_STRING_new();
			ok = ip && inet_pton(family, v + 3, a) == 1 &&
			    ASN1_OCTET_STRING_set(ip, a,
			    family == AF_INET ? 4 : 16) == 1;
			if (ok)
				GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
			else
				ASN1_OCTET_STRING_free(ip);
		} else if (g && ku_str_has_prefix(v, "DNS:")) {
			dns = ASN1_IA5STRING_new();
			ok = dns && ASN1_STRING_set(dns, v + 4, -1) == 1;
			if (ok)
				GENERAL_NAME_set0_value(g, GEN_DNS, dns);
			else
				ASN1_IA5STRING_free(dns);
		}
		if (!ok || sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			GENERAL_NAMES_free(gens);
			return NULL;
		}
	}
	return gens;
}

/* --- what each certificate must be --- */

static void
ku_want_ca(struct ku_want *w, enum ku_ca_id id)
{
	memset(w, 0, sizeof *w);
	w->file = xstrdup(ku_ca_defs[id].file);
	w->cn = xstrdup(ku_ca_defs[id].cn);
	w->ca = true;
	w->signer = id;
}

static ku_rc
ku_want_leaf(const struct ku_pki *pki, const struct ku_leaf_def *d,
    struct ku_want *w, char **err)
{
	const struct ku_spec *spec = pki->spec;
	char ip[INET6_ADDRSTRLEN];
	char *name;

	memset(w, 0, sizeof *w);
	w->file = xstrdup(d->file);
	w->cn = xstrdup(d->cn ? d->cn : spec->master.name);
	w->org = d->org ? xstrdup(d->org) : NULL;
	w->signer = d->signer;
	w->eku = d->eku;
	switch (d->sans) {
	case KU_SANS_NONE:
		break;
	case KU_SANS_APISERVER:
		if (!ku_pki_service_ip(spec->service_cidr, ip, sizeof ip)) {
			*err = xasprintf(_("cluster.service_cidr: \"%s\" has no "
			    "first address for the apiserver's Service"),
			    spec->service_cidr);
			ku_want_free(w);
			return KU_ERR_INVALID;
		}
		ku_san_add(&w->sans, spec->master.name);
		ku_san_add(&w->sans, spec->master.address);
		ku_san_add(&w->sans, "kubernetes");
		ku_san_add(&w->sans, "kubernetes.default");
		ku_san_add(&w->sans, "kubernetes.default.svc");
		name = xasprintf("kubernetes.default.svc.%s", spec->dns_domain);
		ku_san_add(&w->sans, name);
		free(name);
		ku_san_add(&w->sans, ip);
		ku_san_add(&w->sans, "127.0.0.1");
		for (size_t i = 0; i < spec->api_sans.n; i++)
			ku_san_add(&w->sans, spec->api_sans.v[i]);
		break;
	case KU_SANS_ETCD:
		ku_san_add(&w->sans, spec->master.name);
		ku_san_add(&w->sans, spec->master.address);
		ku_san_add(&w->sans, "localhost");
		ku_san_add(&w->sans, "127.0.0.1");
		ku_san_add(&w->sans, "::1");
		break;
	}
	return KU_OK;
}

static void
ku_want_kubelet(const struct ku_machine *m, bool serving, struct ku_want *w)
{
	memset(w, 0, sizeof *w);
	w->file = xasprintf("pki/nodes/%s/%s", m->name,
	    serving ? "kubelet" : "kubelet-client");
	w->cn = xasprintf("system:node:%s", m->name);
	w->org = xstrdup("system:nodes");
	w->signer = KU_CA_CLUSTER;
	w->eku = serving ? KU_EKU_SERVER : KU_EKU_CLIENT;
	if (serving) {
		ku_san_add(&w->sans, m->name);
		ku_san_add(&w->sans, m->address);
	}
}

static void
ku_want_kubeconfig(const struct ku_kubeconfig_def *d, struct ku_want *w)
{
	memset(w, 0, sizeof *w);
	w->file = xstrdup(d->file);
	w->cn = xstrdup(d->cn);
	w->org = d->org ? xstrdup(d->org) : NULL;
	w->signer = KU_CA_CLUSTER;
	w->eku = KU_EKU_CLIENT;
}

static const char *
ku_eku_text(unsigned eku)
{
	switch (eku & (KU_EKU_SERVER | KU_EKU_CLIENT)) {
	case KU_EKU_SERVER: return "serverAuth";
	case KU_EKU_CLIENT: return "clientAuth";
	case KU_EKU_SERVER | KU_EKU_CLIENT: return "serverAuth, clientAuth";
	}
	return "-";
}

/* --- making a certificate --- */

static bool
ku_add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	bool ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	return ok;
}

/* Now plus whole calendar years, as kubeadm counts them (a 29 February
 * becomes 1 March). */
static time_t
ku_years_from_now(int years)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	tm.tm_year += years;
	return timegm(&tm);
}

/* A random positive serial of 159 bits (the top bit of 20 octets clear so
 * that it is positive, the next one set so that it is never short):
 * RFC 5280's 20 octets at most, and a collision between two of kubeup's
 * certificates would take about 2^79 of them. */
static bool
ku_set_serial(X509 *cert)
{
	unsigned char b[20];
	BIGNUM *bn;
	bool ok;

	if (RAND_bytes(b, sizeof b) != 1)
		return false;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(b, sizeof b, NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok;
}

static ku_rc
ku_cert_make(struct ku_pki *pki, const struct ku_want *w, EVP_PKEY *key,
    const struct ku_ca *ca, X509 **out, char **err)
{
	X509 *cert = X509_new();
	X509_NAME *name = ku_name(w->org, w->cn);
	GENERAL_NAMES *gens = NULL;
	X509V3_CTX v3;
	char usage[80];
	char *why;
	bool ok;

	ok = cert && name && X509_set_version(cert, X509_VERSION_3) == 1 &&
	    ku_set_serial(cert) &&
	    X509_set_subject_name(cert, name) == 1 &&
	    X509_set_issuer_name(cert, ca ? X509_get_subject_name(ca->cert) :
	    name) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(cert),
	    -KU_PKI_SKEW_SECONDS) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(cert),
	    ku_years_from_now(w->ca ? KU_PKI_CA_YEARS : KU_PKI_LEAF_YEARS)) !=
	    NULL &&
	    X509_set_pubkey(cert, key) == 1;
	/* A leaf never outlives its CA. */
	if (ok && ca && ASN1_TIME_compare(X509_get0_notAfter(cert),
	    X509_get0_notAfter(ca->cert)) > 0)
		ok = X509_set1_notAfter(cert, X509_get0_notAfter(ca->cert)) == 1;

	X509V3_set_ctx(&v3, ca ? ca->cert : cert, cert, NULL, NULL, 0);
	if (w->ca) {
		ok = ok && ku_add_ext(cert, &v3, NID_basic_constraints,
		    "critical,CA:TRUE") &&
		    ku_add_ext(cert, &v3, NID_key_usage,
		    "critical,digitalSignature,keyCertSign,cRLSign");
	} else {
		/* keyEncipherment only where TLS can use it: RSA key
		 * transport. */
		snprintf(usage, sizeof usage, "critical,digitalSignature%s",
		    EVP_PKEY_is_a(key, "RSA") ? ",keyEncipherment" : "");
		ok = ok && ku_add_ext(cert, &v3, NID_basic_constraints,
		    "critical,CA:FALSE") &&
		    ku_add_ext(cert, &v3, NID_key_usage, usage) &&
		    ku_add_ext(cert, &v3, NID_ext_key_usage,
		    w->eku == KU_EKU_SERVER ? "serverAuth" :
		    w->eku == KU_EKU_CLIENT ? "clientAuth" :
		    "serverAuth,clientAuth");
	}
	ok = ok && ku_add_ext(cert, &v3, NID_subject_key_identifier, "hash") &&
	    ku_add_ext(cert, &v3, NID_authority_key_identifier, "keyid:always");
	if (ok && w->sans.n) {
		/* Built from values, never parsed from a config string: a name
		 * cannot smuggle in another kind of name. */
		gens = ku_general_names(&w->sans);
		ok = gens && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens,
		    0, X509V3_ADD_DEFAULT) == 1;
	}
	ok = ok && X509_sign(cert, ca ? ca->key : key, pki->md) > 0;
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	if (ok) {
		*out = cert;
		return KU_OK;
	}
	X509_free(cert);
	why = ku_ossl_error();
	*err = xasprintf(_("%s.crt: cannot make the certificate: %s"), w->file,
	    why);
	free(why);
	return KU_ERR_INVALID;
}

/* --- does a certificate fit? --- */

/* The names the certificate should have and has not, and those it has
 * and should not; NULL when the sets are equal. Caller frees. */
static char *
ku_sans_diff(const struct ku_strv *want, const struct ku_strv *have)
{
	struct ku_buf missing, extra;
	char *s = NULL;

	ku_buf_init(&missing, 0);
	ku_buf_init(&extra, 0);
	for (size_t i = 0; i < want->n; i++)
		if (!ku_strv_contains(have, want->v[i]))
			ku_buf_printf(&missing, "%s%s", missing.len ? ", " : "",
			    want->v[i]);
	for (size_t i = 0; i < have->n; i++)
		if (!ku_strv_contains(want, have->v[i]))
			ku_buf_printf(&extra, "%s%s", extra.len ? ", " : "",
			    have->v[i]);
	if (missing.len && extra.len)
		s = xasprintf(_("its names differ from the answers: it lacks "
		    "%s and has %s"), missing.data, extra.data);
	else if (missing.len)
		s = xasprintf(_("its names differ from the answers: it lacks "
		    "%s"), missing.data);
	else if (extra.len)
		s = xasprintf(_("its names differ from the answers: it has %s, "
		    "which they do not name"), extra.data);
	ku_buf_free(&missing);
	ku_buf_free(&extra);
	return s;
}

/* NULL when cert and key are what w asks for, signed by ca (by itself for
 * a CA) and valid for renew_days more days; else the first reason why
 * not, translated. Caller frees. */
static char *
ku_misfit(const struct ku_pki *pki, const struct ku_want *w, X509 *cert,
    EVP_PKEY *key, const struct ku_ca *ca, int renew_days)
{
	X509 *signer = ca ? ca->cert : cert;
	X509_NAME *name = NULL;
	struct ku_strv sans = { 0 };
	char *s = NULL, *a, *b, when[40];
	uint32_t xku, want_xku;
	time_t limit;

	if (X509_check_private_key(cert, key) != 1) {
		s = xstrdup(_("its key does not match the certificate"));
		goto out;
	}
	if (!ku_key_fits(pki, key)) {
		a = ku_key_desc(key);
		s = xasprintf(_("its key is %s, the answers ask for %s"), a,
		    ku_key_type_name(pki->spec->key_type));
		free(a);
		goto out;
	}
	if (X509_check_issued(signer, cert) != X509_V_OK ||
	    X509_verify(cert, X509_get0_pubkey(signer)) != 1) {
		s = ca ? xasprintf(_("it is not signed by %s.crt"),
		    ku_ca_defs[w->signer].file) :
		    xstrdup(_("it is not self-signed"));
		goto out;
	}
	name = ku_name(w->org, w->cn);
	if (name == NULL || X509_NAME_cmp(name, X509_get_subject_name(cert))) {
		a = ku_name_text(X509_get_subject_name(cert));
		b = name ? ku_name_text(name) : xstrdup("?");
		s = xasprintf(_("its subject is %s, not %s"), a, b);
		free(a);
		free(b);
		goto out;
	}
	if (w->ca && (X509_check_ca(cert) != 1 ||
	    !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN))) {
		s = xstrdup(_("it is not a CA (CA:TRUE and keyCertSign)"));
		goto out;
	}
	if (!w->ca && ((X509_get_extension_flags(cert) & EXFLAG_CA) ||
	    (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN))) {
		s = xstrdup(_("it may sign certificates, as only a CA may"));
		goto out;
	}
	if (!w->ca) {
		xku = X509_get_extended_key_usage(cert);
		want_xku = ((w->eku & KU_EKU_SERVER) ? XKU_SSL_SERVER : 0) |
		    ((w->eku & KU_EKU_CLIENT) ? XKU_SSL_CLIENT : 0);
		if (xku != want_xku) {
			s = xasprintf(_("its extended key usage is not %s alone"),
			    ku_eku_text(w->eku));
			goto out;
		}
	}
	ku_cert_sans(cert, &sans);
	if ((s = ku_sans_diff(&w->sans, &sans)) != NULL)
		goto out;
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
		ku_asn1_time_text(X509_get0_notBefore(cert), when, sizeof when);
		s = xasprintf(_("it is not valid before %s"), when);
		goto out;
	}
	limit = time(NULL) + (time_t)renew_days * 86400;
	if (X509_cmp_time(X509_get0_notAfter(cert), &limit) <= 0) {
		ku_asn1_time_text(X509_get0_notAfter(cert), when, sizeof when);
		if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
			s = xasprintf(_("it expired on %s"), when);
		else
			s = xasprintf(_("it expires on %s, within %d days"),
			    when, renew_days);
		goto out;
	}
out:
	ku_strv_free(&sans);
	X509_NAME_free(name);
	ERR_clear_error();
	return s;
}

/* --- the CAs, loaded once --- */

/* The CA, loaded from the state directory on first use; *out holds its
 * own references (ku_ca_clear). */
static ku_rc
ku_ca_get(struct ku_pki *pki, enum ku_ca_id id, struct ku_ca *out,
    char **err)
{
	struct ku_ca *ca = &pki->cas[id];
	char *crt = ku_rel(ku_ca_defs[id].file, ".crt");
	char *key = ku_rel(ku_ca_defs[id].file, ".key");
	char *why = NULL;
	ku_rc rc = KU_OK;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&pki->lock);
	if (ca->cert == NULL) {
		X509 *c = ku_read_cert(pki, crt, &why);
		EVP_PKEY *k = c ? ku_read_key(pki, key, &why) : NULL;
		const char *file = c ? key : crt;

		if (c && k && X509_check_private_key(c, k) != 1) {
			why = xasprintf(_("does not match %s"), key);
			file = crt;
		}
		if (why) {
			*err = xasprintf(_("%s: %s (the substep cas makes the "
			    "CAs)"), file, why);
			X509_free(c);
			EVP_PKEY_free(k);
			ERR_clear_error();
			rc = KU_ERR_STATE;
			goto out;
		}
		ca->cert = c;
		ca->key = k;
	}
	X509_up_ref(ca->cert);
	EVP_PKEY_up_ref(ca->key);
	out->cert = ca->cert;
	out->key = ca->key;
out:
	pthread_mutex_unlock(&pki->lock);
	free(why);
	free(crt);
	free(key);
	return rc;
}

static void
ku_ca_set(struct ku_pki *pki, enum ku_ca_id id, X509 *cert, EVP_PKEY *key)
{
	pthread_mutex_lock(&pki->lock);
	ku_ca_clear(&pki->cas[id]);
	X509_up_ref(cert);
	EVP_PKEY_up_ref(key);
	pki->cas[id].cert = cert;
	pki->cas[id].key = key;
	pthread_mutex_unlock(&pki->lock);
}

/* --- one certificate and its key on disk --- */

/* Keeps w's .crt and .key when they fit, else makes and writes new ones
 * (with a warning when something was there). The pair in use is handed
 * back when asked for. */
static ku_rc
ku_ensure(struct ku_pki *pki, const struct ku_want *w,
    struct ku_pki_report *rep, X509 **cert_out, EVP_PKEY **key_out,
    char **err)
{
	char *crt = ku_rel(w->file, ".crt"), *keyf = ku_rel(w->file, ".key");
	struct ku_ca ca = { 0 };
	struct ku_buf pem;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	bool have_crt, have_key;
	char *why = NULL;
	ku_rc rc;

	ku_buf_init(&pem, 0);
	rc = ku_pki_ready(pki, err);
	if (rc == KU_OK && !w->ca)
		rc = ku_ca_get(pki, w->signer, &ca, err);
	if (rc != KU_OK)
		goto out;
	have_crt = ku_rel_exists(pki, crt);
	have_key = ku_rel_exists(pki, keyf);
	if (have_crt && have_key) {
		char *what = NULL;
		cert = ku_read_cert(pki, crt, &what);
		if (cert)
			key = ku_read_key(pki, keyf, &what);
		if (what && cert)
			why = xasprintf("%s: %s", keyf, what);
		else if (what)
			why = xstrdup(what);
		else
			why = ku_misfit(pki, w, cert, key, w->ca ? NULL : &ca,
			    KU_PKI_RENEW_DAYS);
		free(what);
		if (why == NULL)
			goto keep;
		ku_warn(rep, _("%s: renewed: %s"), crt, why);
	} else if (have_crt || have_key) {
		ku_warn(rep, _("%s: renewed: %s is missing"), crt,
		    have_crt ? keyf : crt);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	cert = NULL;
	key = NULL;

	rc = ku_keygen(pki, &key, err);
	if (rc == KU_OK)
		rc = ku_cert_make(pki, w, key, w->ca ? NULL : &ca, &cert, err);
	if (rc != KU_OK)
		goto out;
	/* The key first: a crash between the two leaves a pair that does
	 * not match, which the next run replaces. */
	if (ku_pem_key(key, &pem) != KU_OK) {
		*err = xasprintf(_("%s: cannot encode the key"), keyf);
		rc = KU_ERR_INVALID;
		goto out;
	}
	rc = ku_write(pki, keyf, pem.data, pem.len, 0600, rep, err);
	ku_buf_wipe(&pem);
	ku_buf_init(&pem, 0);
	if (rc == KU_OK && ku_pem_cert(cert, &pem) != KU_OK) {
		*err = xasprintf(_("%s: cannot encode the certificate"), crt);
		rc = KU_ERR_INVALID;
	}
	if (rc == KU_OK)
		rc = ku_write(pki, crt, pem.data, pem.len, 0644, rep, err);
	if (rc != KU_OK)
		goto out;
keep:
	if (w->ca)
		ku_ca_set(pki, w->signer, cert, key);
	if (cert_out) {
		*cert_out = cert;
		cert = NULL;
	}
	if (key_out) {
		*key_out = key;
		key = NULL;
	}
out:
	ku_buf_wipe(&pem);
	ku_ca_clear(&ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(why);
	free(crt);
	free(keyf);
	return rc;
}

/* --- kubeconfigs --- */

static char *
ku_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Decodes base64 text of length len into out; false when it is not. */
static bool
ku_unbase64(const char *text, size_t len, struct ku_buf *out)
{
	unsigned char *raw;
	int n;

	if (len == 0 || len % 4 != 0 || len > KU_PKI_FILE_MAX)
		return false;
	raw = xmalloc(len);
	n = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len);
	if (n >= 0) {
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		if (text[len - 1] == '=')
			n--;
		if (text[len - 2] == '=')
			n--;
		ku_buf_add(out, raw, (size_t)n);
	}
	OPENSSL_cleanse(raw, len);
	free(raw);
	return n >= 0;
}

/* The value of the first line "<indent>key: value" of a YAML text we
 * wrote, decoded from base64. */
static bool
ku_yaml_b64(const char *text, const char *key, struct ku_buf *out)
{
	char *needle = xasprintf(" %s: ", key);
	const char *p = strstr(text, needle), *end;
	bool ok = false;

	if (p) {
		p += strlen(needle);
		end = p + strcspn(p, "\r\n");
		ok = ku_unbase64(p, (size_t)(end - p), out);
	}
	free(needle);
	return ok;
}

static char *
ku_server_url(const struct ku_spec *spec)
{
	if (ku_ip_family(spec->master.address) == AF_INET6)
		return xasprintf("https://[%s]:%d", spec->master.address,
		    KU_PKI_API_PORT);
	return xasprintf("https://%s:%d", spec->master.address,
	    KU_PKI_API_PORT);
}

/* A kubeconfig as kubeadm writes one: the cluster named after the spec,
 * its CA and the user's certificate and key embedded. Caller wipes. */
static void
ku_kubeconfig_text(const struct ku_spec *spec, const char *user,
    const struct ku_buf *ca_pem, const struct ku_buf *crt_pem,
    const struct ku_buf *key_pem, struct ku_buf *out)
{
	char *ca64 = ku_base64(ca_pem->data, ca_pem->len);
	char *crt64 = ku_base64(crt_pem->data, crt_pem->len);
	char *key64 = ku_base64(key_pem->data, key_pem->len);
	char *server = ku_server_url(spec);

	ku_buf_printf(out,
	    "apiVersion: v1\n"
	    "kind: Config\n"
	    "clusters:\n"
	    "- cluster:\n"
	    "    certificate-authority-data: %s\n"
	    "    server: %s\n"
	    "  name: %s\n"
	    "contexts:\n"
	    "- context:\n"
	    "    cluster: %s\n"
	    "    user: %s\n"
	    "  name: %s@%s\n"
	    "current-context: %s@%s\n"
	    "preferences: {}\n"
	    "users:\n"
	    "- name: %s\n"
	    "  user:\n"
	    "    client-certificate-data: %s\n"
	    "    client-key-data: %s\n",
	    ca64, server, spec->name, spec->name, user, user, spec->name, user,
	    spec->name, user, crt64, key64);
	OPENSSL_cleanse(key64, strlen(key64));
	free(ca64);
	free(crt64);
	free(key64);
	free(server);
}

/* The certificate and key a kubeconfig holds; false with *why when it
 * holds none that parse. Their PEM text is added to crt_pem and key_pem
 * when given (the caller wipes key_pem). */
static bool
ku_kubeconfig_creds(struct ku_pki *pki, const char *text, X509 **cert,
    EVP_PKEY **key, struct ku_buf *crt_pem, struct ku_buf *key_pem,
    char **why)
{
	struct ku_buf crt, k;
	bool ok = false;

	*cert = NULL;
	*key = NULL;
	ku_buf_init(&crt, 0);
	ku_buf_init(&k, 0);
	if (!ku_yaml_b64(text, "client-certificate-data", &crt) ||
	    !ku_yaml_b64(text, "client-key-data", &k))
		*why = xstrdup(_("it holds no client certificate and key"));
	else if ((*cert = ku_parse_cert(crt.data, crt.len, why)) != NULL &&
	    (*key = ku_parse_key(pki, k.data, k.len, why)) != NULL)
		ok = true;
	if (!ok) {
		X509_free(*cert);
		*cert = NULL;
	}
	if (ok && crt_pem)
		ku_buf_add(crt_pem, crt.data, crt.len);
	if (ok && key_pem)
		ku_buf_add(key_pem, k.data, k.len);
	ku_buf_free(&crt);
	ku_buf_wipe(&k);
	return ok;
}

/* Writes file as the kubeconfig of user with the client pair, unless it
 * holds exactly that already. The pair is given as PEM text when at hand
 * (encoding a key costs more than all the rest), else as objects. */
static ku_rc
ku_put_kubeconfig(struct ku_pki *pki, const char *file, const char *user,
    X509 *ca_cert, X509 *cert, EVP_PKEY *key, const struct ku_buf *crt_in,
    const struct ku_buf *key_in, const char *why_rewrite,
    struct ku_pki_report *rep, char **err)
{
	struct ku_buf ca_pem, crt_pem, key_pem, text, old;
	char *path = ku_abs(pki, file), *why = NULL;
	ku_rc rc = KU_OK;

	ku_buf_init(&ca_pem, 0);
	ku_buf_init(&crt_pem, 0);
	ku_buf_init(&key_pem, 0);
	ku_buf_init(&text, 0);
	if (ku_pem_cert(ca_cert, &ca_pem) != KU_OK ||
	    (crt_in == NULL && ku_pem_cert(cert, &crt_pem) != KU_OK) ||
	    (key_in == NULL && ku_pem_key(key, &key_pem) != KU_OK)) {
		*err = xasprintf(_("%s: cannot encode its certificates"), file);
		rc = KU_ERR_INVALID;
		goto out;
	}
	ku_kubeconfig_text(pki->spec, user, &ca_pem, crt_in ? crt_in : &crt_pem,
	    key_in ? key_in : &key_pem, &text);
	if (ku_path_exists(path)) {
		bool same = ku_slurp(path, &old, &why) && old.len == text.len &&
		    memcmp(old.data, text.data, text.len) == 0;
		ku_buf_wipe(&old);
		if (same)
			goto out;
		if (why_rewrite)
			ku_warn(rep, _("%s: rewritten: %s"), file, why_rewrite);
	}
	rc = ku_write(pki, file, text.data, text.len, 0600, rep, err);
out:
	ku_buf_free(&ca_pem);
	ku_buf_free(&crt_pem);
	ku_buf_wipe(&key_pem);
	ku_buf_wipe(&text);
	free(why);
	free(path);
	return rc;
}

/* A kubeconfig with its own client certificate: kept when its certificate
 * still fits w, else made anew. */
static ku_rc
ku_ensure_kubeconfig(struct ku_pki *pki, const struct ku_want *w,
    struct ku_pki_report *rep, char **err)
{
	char *path = ku_abs(pki, w->file), *why = NULL, *what = NULL;
	struct ku_ca ca = { 0 };
	struct ku_buf old, crt_pem, key_pem;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	ku_rc rc;

	ku_buf_init(&old, 0);
	ku_buf_init(&crt_pem, 0);
	ku_buf_init(&key_pem, 0);
	rc = ku_pki_ready(pki, err);
	if (rc == KU_OK)
		rc = ku_ca_get(pki, w->signer, &ca, err);
	if (rc != KU_OK)
		goto out;
	if (ku_path_exists(path)) {
		if (ku_slurp(path, &old, &what) &&
		    ku_kubeconfig_creds(pki, old.data, &cert, &key, &crt_pem,
		    &key_pem, &what))
			why = ku_misfit(pki, w, cert, key, &ca,
			    KU_PKI_RENEW_DAYS);
		else
			why = xstrdup(what);
		if (why == NULL) {
			rc = ku_put_kubeconfig(pki, w->file, w->cn, ca.cert, cert,
			    key, &crt_pem, &key_pem, _("its cluster, server or CA no longer match "
			    "the answers"), rep, err);
			goto out;
		}
		ku_warn(rep, _("%s: renewed: %s"), w->file, why);
		X509_free(cert);
		EVP_PKEY_free(key);
		cert = NULL;
		key = NULL;
	}
	rc = ku_keygen(pki, &key, err);
	if (rc == KU_OK)
		rc = ku_cert_make(pki, w, key, &ca, &cert, err);
	if (rc == KU_OK)
		rc = ku_put_kubeconfig(pki, w->file, w->cn, ca.cert, cert, key,
		    NULL, NULL, NULL, rep, err);
out:
	ku_buf_wipe(&old);
	ku_buf_free(&crt_pem);
	ku_buf_wipe(&key_pem);
	ku_ca_clear(&ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(what);
	free(why);
	free(path);
	return rc;
}

/* --- the substeps --- */

ku_rc
ku_pki_cas(struct ku_pki *pki, struct ku_pki_report *rep, char **err)
{
	struct ku_want w;
	ku_rc rc = ku_private_dir(pki, "pki", err);

	if (rc == KU_OK)
		rc = ku_private_dir(pki, "pki/etcd", err);
	for (int id = 0; rc == KU_OK && id < KU_CA__COUNT; id++) {
		ku_want_ca(&w, (enum ku_ca_id)id);
		rc = ku_ensure(pki, &w, rep, NULL, NULL, err);
		ku_want_free(&w);
	}
	return rc;
}

ku_rc
ku_pki_control_plane(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err)
{
	struct ku_want w;
	ku_rc rc = ku_private_dir(pki, "pki/etcd", err);

	for (size_t i = 0; rc == KU_OK &&
	    i < KU_ARRAY_LEN(ku_control_plane_defs); i++) {
		rc = ku_want_leaf(pki, &ku_control_plane_defs[i], &w, err);
		if (rc == KU_OK)
			rc = ku_ensure(pki, &w, rep, NULL, NULL, err);
		ku_want_free(&w);
	}
	return rc;
}

ku_rc
ku_pki_service_account(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err)
{
	const char *keyf = "pki/sa.key", *pubf = "pki/sa.pub";
	char *why = NULL, *pub_path = ku_abs(pki, pubf);
	struct ku_buf pem;
	EVP_PKEY *key = NULL, *pub = NULL;
	BIO *b = NULL;
	ku_rc rc;

	ku_buf_init(&pem, 0);
	rc = ku_private_dir(pki, "pki", err);
	if (rc == KU_OK)
		rc = ku_pki_ready(pki, err);
	if (rc != KU_OK)
		goto out;
	if (ku_rel_exists(pki, keyf)) {
		key = ku_read_key(pki, keyf, &why);
		if (key && !ku_key_fits(pki, key)) {
			char *desc = ku_key_desc(key);
			why = xasprintf(_("its key is %s, the answers ask for %s"),
			    desc, ku_key_type_name(pki->spec->key_type));
			free(desc);
			EVP_PKEY_free(key);
			key = NULL;
		}
		if (key == NULL)
			ku_warn(rep, _("%s: renewed: %s"), keyf, why);
	}
	if (key == NULL) {
		rc = ku_keygen(pki, &key, err);
		if (rc == KU_OK && ku_pem_key(key, &pem) != KU_OK) {
			*err = xasprintf(_("%s: cannot encode the key"), keyf);
			rc = KU_ERR_INVALID;
		}
		if (rc == KU_OK)
			rc = ku_write(pki, keyf, pem.data, pem.len, 0600, rep,
			    err);
		ku_buf_wipe(&pem);
		ku_buf_init(&pem, 0);
		if (rc != KU_OK)
			goto out;
	}
	/* The public half, which the apiserver verifies tokens with. */
	if (ku_path_exists(pub_path)) {
		struct ku_buf old;
		char *what = NULL;
		if (ku_slurp(pub_path, &old, &what)) {
			BIO *ob = BIO_new_mem_buf(old.data, (int)old.len);
			pub = ob ? PEM_read_bio_PUBKEY(ob, NULL, NULL, NULL) :
			    NULL;
			BIO_free(ob);
			ERR_clear_error();
		}
		ku_buf_free(&old);
		free(what);
		if (pub && EVP_PKEY_eq(pub, key) == 1)
			goto out;
		ku_warn(rep, _("%s: rewritten: it is not the public half of "
		    "%s"), pubf, keyf);
	}
	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_PUBKEY(b, key) != 1) {
		*err = xasprintf(_("%s: cannot encode the public key"), pubf);
		rc = KU_ERR_INVALID;
		goto out;
	}
	{
		char *p;
		long n = BIO_get_mem_data(b, &p);
		rc = ku_write(pki, pubf, p, (size_t)n, 0644, rep, err);
	}
out:
	BIO_free(b);
	ku_buf_wipe(&pem);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	free(why);
	free(pub_path);
	ERR_clear_error();
	return rc;
}

ku_rc
ku_pki_machine(struct ku_pki *pki, const struct ku_machine *m,
    struct ku_pki_report *rep, char **err)
{
	struct ku_want client, serving;
	struct ku_ca ca = { 0 };
	struct ku_buf crt_pem = { 0 }, key_pem = { 0 };
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	char *dir = xasprintf("pki/nodes/%s", m->name);
	char *conf = xasprintf("kubeconfig/kubelet/%s.conf", m->name);
	char *user = xasprintf("system:node:%s", m->name);
	ku_rc rc;

	ku_want_kubelet(m, false, &client);
	ku_want_kubelet(m, true, &serving);
	rc = ku_private_dir(pki, dir, err);
	if (rc == KU_OK)
		rc = ku_private_dir(pki, "kubeconfig/kubelet", err);
	if (rc == KU_OK)
		rc = ku_ensure(pki, &client, rep, &cert, &key, err);
	if (rc == KU_OK)
		rc = ku_ensure(pki, &serving, rep, NULL, NULL, err);
	/* The kubelet's kubeconfig holds the same client pair, byte for
	 * byte. */
	if (rc == KU_OK)
		rc = ku_ca_get(pki, KU_CA_CLUSTER, &ca, err);
	if (rc == KU_OK) {
		char *crt_path = xasprintf("%s/%s/kubelet-client.crt",
		    pki->state_dir, dir);
		char *key_path = xasprintf("%s/%s/kubelet-client.key",
		    pki->state_dir, dir);
		char *why = NULL;

		if (!ku_slurp(crt_path, &crt_pem, &why) ||
		    !ku_slurp(key_path, &key_pem, &why)) {
			*err = xasprintf("%s: %s", crt_pem.data ? key_path :
			    crt_path, why);
			rc = KU_ERR_IO;
		} else {
			rc = ku_put_kubeconfig(pki, conf, user, ca.cert, cert,
			    key, &crt_pem, &key_pem, _("it did not hold the CA "
			    "and client pair in pki/nodes"), rep, err);
		}
		free(why);
		free(crt_path);
		free(key_path);
	}
	ku_buf_free(&crt_pem);
	ku_buf_wipe(&key_pem);
	ku_ca_clear(&ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	ku_want_free(&client);
	ku_want_free(&serving);
	free(dir);
	free(conf);
	free(user);
	return rc;
}

/* The key line of an encryption configuration we wrote. */
static bool
ku_encryption_ok(const char *text)
{
	struct ku_buf key;
	bool ok;

	ku_buf_init(&key, 0);
	ok = strstr(text, "kind: EncryptionConfiguration\n") != NULL &&
	    strstr(text, "- aescbc:\n") != NULL &&
	    ku_yaml_b64(text, "secret", &key) && key.len == 32;
	ku_buf_wipe(&key);
	return ok;
}

ku_rc
ku_pki_encryption_config(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err)
{
	const char *file = "pki/encryption-config.yaml";
	char *path = ku_abs(pki, file), *why = NULL, *secret;
	unsigned char key[32];
	struct ku_buf text;
	ku_rc rc;

	ku_buf_init(&text, 0);
	rc = ku_private_dir(pki, "pki", err);
	if (rc != KU_OK)
		goto out;
	if (ku_path_exists(path)) {
		if (ku_slurp(path, &text, &why) && ku_encryption_ok(text.data))
			goto out;
		/* Never replaced behind the operator's back: Secrets already
		 * encrypted with the old key would be lost. */
		*err = xasprintf(_("%s: %s; it is kept as it is, since Secrets "
		    "encrypted with its key would become unreadable: restore "
		    "it, or remove it to have a new key made"), path,
		    why ? why : _("not an aescbc EncryptionConfiguration with "
		    "a 32-byte key"));
		rc = KU_ERR_STATE;
		goto out;
	}
	if (RAND_priv_bytes(key, sizeof key) != 1) {
		char *e = ku_ossl_error();
		*err = xasprintf(_("%s: cannot make a random key: %s"), file, e);
		free(e);
		rc = KU_ERR_INVALID;
		goto out;
	}
	secret = ku_base64(key, sizeof key);
	OPENSSL_cleanse(key, sizeof key);
	ku_buf_printf(&text,
	    "apiVersion: apiserver.config.k8s.io/v1\n"
	    "kind: EncryptionConfiguration\n"
	    "resources:\n"
	    "  - resources:\n"
	    "      - secrets\n"
	    "    providers:\n"
	    "      - aescbc:\n"
	    "          keys:\n"
	    "            - name: key1\n"
	    "              secret: %s\n"
	    "      - identity: {}\n", secret);
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	rc = ku_write(pki, file, text.data, text.len, 0600, rep, err);
out:
	ku_buf_wipe(&text);
	free(why);
	free(path);
	return rc;
}

ku_rc
ku_pki_kubeconfigs(struct ku_pki *pki, struct ku_pki_report *rep,
    char **err)
{
	struct ku_want w;
	ku_rc rc = ku_private_dir(pki, "kubeconfig", err);

	for (size_t i = 0; rc == KU_OK &&
	    i < KU_ARRAY_LEN(ku_kubeconfig_defs); i++) {
		ku_want_kubeconfig(&ku_kubeconfig_defs[i], &w);
		rc = ku_ensure_kubeconfig(pki, &w, rep, err);
		ku_want_free(&w);
	}
	return rc;
}

ku_rc
ku_pki_generate(struct ku_pki *pki, struct ku_pki_report *rep, char **err)
{
	ku_rc rc = ku_pki_cas(pki, rep, err);

	if (rc == KU_OK)
		rc = ku_pki_control_plane(pki, rep, err);
	if (rc == KU_OK)
		rc = ku_pki_service_account(pki, rep, err);
	for (size_t i = 0; rc == KU_OK && i < ku_spec_n_machines(pki->spec);
	    i++)
		rc = ku_pki_machine(pki, ku_spec_machine(pki->spec, i), rep,
		    err);
	if (rc == KU_OK)
		rc = ku_pki_encryption_config(pki, rep, err);
	if (rc == KU_OK)
		rc = ku_pki_kubeconfigs(pki, rep, err);
	return rc;
}

/* --- the exit check --- */

struct ku_checker {
	struct ku_pki *pki;
	struct ku_strv *problems;
	X509_STORE *stores[KU_CA__COUNT];
	struct ku_ca cas[KU_CA__COUNT];
};

static void
ku_problem(struct ku_checker *c, const char *file, const char *fmt, ...)
    KU_PRINTF(3, 4);

static void
ku_problem(struct ku_checker *c, const char *file, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ku_strv_push_owned(c->problems, xasprintf("%s: %s", file, msg));
	free(msg);
}

/* The file exists with exactly this mode. */
static bool
ku_check_mode(struct ku_checker *c, const char *rel, mode_t want, bool dir)
{
	char *path = ku_abs(c->pki, rel);
	struct stat st;
	bool ok = false;

	if (lstat(path, &st) != 0)
		ku_problem(c, rel, _("missing: %s"), strerror(errno));
	else if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		ku_problem(c, rel, dir ? _("not a folder") :
		    _("not a regular file"));
	else if ((st.st_mode & 07777) != want && !dir && (st.st_mode & 0077))
		ku_problem(c, rel, _("mode %04o, must be %04o: others may have "
		    "read it; if it could have been copied, remove it and run "
		    "phase 2 again to replace it, else chmod %04o it"),
		    (unsigned)(st.st_mode & 07777), (unsigned)want,
		    (unsigned)want);
	else if ((st.st_mode & 07777) != want)
		ku_problem(c, rel, _("mode %04o, must be %04o"),
		    (unsigned)(st.st_mode & 07777), (unsigned)want);
	else
		ok = true;
	free(path);
	return ok;
}

/* X509_verify_cert against the one CA, for a purpose (0: any). */
static void
ku_check_chain(struct ku_checker *c, const char *rel, X509 *cert,
    enum ku_ca_id signer, int purpose)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int e;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, c->stores[signer], cert,
	    NULL) != 1 || (purpose && X509_STORE_CTX_set_purpose(ctx,
	    purpose) != 1)) {
		char *why = ku_ossl_error();
		ku_problem(c, rel, _("cannot verify: %s"), why);
		free(why);
	} else if (X509_verify_cert(ctx) != 1) {
		const char *why;

		e = X509_STORE_CTX_get_error(ctx);
		why = X509_verify_cert_error_string(e);
		if (purpose == X509_PURPOSE_SSL_SERVER)
			ku_problem(c, rel, _("as a TLS server, its chain does "
			    "not verify against %s.crt: %s"),
			    ku_ca_defs[signer].file, why);
		else if (purpose == X509_PURPOSE_SSL_CLIENT)
			ku_problem(c, rel, _("as a TLS client, its chain does "
			    "not verify against %s.crt: %s"),
			    ku_ca_defs[signer].file, why);
		else
			ku_problem(c, rel, _("its chain does not verify "
			    "against %s.crt: %s"), ku_ca_defs[signer].file, why);
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

static void
ku_check_verify(struct ku_checker *c, const char *rel, X509 *cert,
    const struct ku_want *w)
{
	if (w->ca) {
		ku_check_chain(c, rel, cert, w->signer, 0);
		return;
	}
	if (w->eku & KU_EKU_SERVER)
		ku_check_chain(c, rel, cert, w->signer, X509_PURPOSE_SSL_SERVER);
	if (w->eku & KU_EKU_CLIENT)
		ku_check_chain(c, rel, cert, w->signer, X509_PURPOSE_SSL_CLIENT);
}

/* A .crt/.key pair: modes, fit, chain. */
static void
ku_check_pair(struct ku_checker *c, const struct ku_want *w)
{
	char *crt = ku_rel(w->file, ".crt"), *keyf = ku_rel(w->file, ".key");
	const struct ku_ca *ca = w->ca ? NULL : &c->cas[w->signer];
	char *why = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;

	ku_check_mode(c, keyf, 0600, false);
	if (!ku_rel_exists(c->pki, crt)) {
		ku_problem(c, crt, "%s", _("missing"));
		goto out;
	}
	if ((cert = ku_read_cert(c->pki, crt, &why)) == NULL) {
		ku_problem(c, crt, "%s", why);
		goto out;
	}
	if (!ku_rel_exists(c->pki, keyf))
		goto out;   /* reported by the mode check */
	if ((key = ku_read_key(c->pki, keyf, &why)) == NULL) {
		ku_problem(c, keyf, "%s", why);
		goto out;
	}
	if (ca && ca->cert == NULL)
		goto out;   /* the CA's own problem is reported */
	if ((why = ku_misfit(c->pki, w, cert, key, ca, 0)) != NULL) {
		ku_problem(c, crt, "%s", why);
		goto out;
	}
	ku_check_verify(c, crt, cert, w);
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	free(why);
	free(crt);
	free(keyf);
}

/* A kubeconfig: mode, its client pair, and every other line as kubeup
 * writes it for these answers. */
static void
ku_check_kubeconfig(struct ku_checker *c, const char *rel, const char *user,
    const struct ku_want *w)
{
	char *path = ku_abs(c->pki, rel), *why = NULL;
	const struct ku_ca *ca = &c->cas[KU_CA_CLUSTER];
	struct ku_buf text, ca_pem, crt_pem, key_pem, want;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;

	ku_buf_init(&text, 0);
	ku_buf_init(&ca_pem, 0);
	ku_buf_init(&crt_pem, 0);
	ku_buf_init(&key_pem, 0);
	ku_buf_init(&want, 0);
	if (!ku_check_mode(c, rel, 0600, false) && !ku_path_exists(path))
		goto out;
	if (!ku_slurp(path, &text, &why) ||
	    !ku_kubeconfig_creds(c->pki, text.data, &cert, &key, &crt_pem,
	    &key_pem, &why)) {
		ku_problem(c, rel, "%s", why);
		goto out;
	}
	if (ca->cert == NULL)
		goto out;
	if ((why = ku_misfit(c->pki, w, cert, key, ca, 0)) != NULL) {
		ku_problem(c, rel, "%s", why);
		goto out;
	}
	ku_check_verify(c, rel, cert, w);
	if (ku_pem_cert(ca->cert, &ca_pem) == KU_OK)
		ku_kubeconfig_text(c->pki->spec, user, &ca_pem, &crt_pem,
		    &key_pem, &want);
	if (want.len != text.len || memcmp(want.data, text.data, text.len))
		ku_problem(c, rel, "%s", _("its cluster, server, CA or names "
		    "are not those of the answers"));
out:
	ku_buf_wipe(&text);
	ku_buf_free(&ca_pem);
	ku_buf_free(&crt_pem);
	ku_buf_wipe(&key_pem);
	ku_buf_wipe(&want);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(why);
	free(path);
}

static void
ku_check_sa(struct ku_checker *c)
{
	char *why = NULL, *pub_path = ku_abs(c->pki, "pki/sa.pub");
	EVP_PKEY *key = NULL, *pub = NULL;
	struct ku_buf b;
	BIO *bio;

	ku_check_mode(c, "pki/sa.key", 0600, false);
	if (!ku_rel_exists(c->pki, "pki/sa.key"))
		goto out;
	if ((key = ku_read_key(c->pki, "pki/sa.key", &why)) == NULL) {
		ku_problem(c, "pki/sa.key", "%s", why);
		goto out;
	}
	if (!ku_key_fits(c->pki, key)) {
		char *desc = ku_key_desc(key);
		ku_problem(c, "pki/sa.key", _("its key is %s, the answers ask "
		    "for %s"), desc, ku_key_type_name(c->pki->spec->key_type));
		free(desc);
	}
	if (!ku_slurp(pub_path, &b, &why)) {
		ku_problem(c, "pki/sa.pub", "%s", why);
		goto out;
	}
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ku_buf_free(&b);
	if (pub == NULL || EVP_PKEY_eq(pub, key) != 1)
		ku_problem(c, "pki/sa.pub", "%s", _("not the public half of "
		    "pki/sa.key"));
out:
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	free(why);
	free(pub_path);
}

static void
ku_check_encryption(struct ku_checker *c)
{
	const char *rel = "pki/encryption-config.yaml";
	char *path = ku_abs(c->pki, rel), *why = NULL;
	struct ku_buf text;

	if (ku_check_mode(c, rel, 0600, false) || ku_path_exists(path)) {
		if (!ku_slurp(path, &text, &why))
			ku_problem(c, rel, "%s", why);
		else if (!ku_encryption_ok(text.data))
			ku_problem(c, rel, "%s", _("not an aescbc "
			    "EncryptionConfiguration with a 32-byte key"));
		ku_buf_wipe(&text);
	}
	free(why);
	free(path);
}

ku_rc
ku_pki_check(struct ku_pki *pki, struct ku_strv *problems)
{
	struct ku_checker c = { .pki = pki, .problems = problems };
	const struct ku_spec *spec = pki->spec;
	size_t before = problems->n;
	struct ku_want w;
	char *err = NULL, *rel;
	ku_rc rc;

	static const char *const dirs[] = {
		"pki", "pki/etcd", "pki/nodes", "kubeconfig",
		"kubeconfig/kubelet",
	};
	for (size_t i = 0; i < KU_ARRAY_LEN(dirs); i++)
		ku_check_mode(&c, dirs[i], 0700, true);

	/* The CAs first, as they are on disk: every other chain ends at one
	 * of them. */
	for (int id = 0; id < KU_CA__COUNT; id++) {
		rel = ku_rel(ku_ca_defs[id].file, ".crt");
		c.stores[id] = X509_STORE_new();
		if (ku_rel_exists(pki, rel))
			c.cas[id].cert = ku_read_cert(pki, rel, &err);
		free(err);
		err = NULL;
		if (c.cas[id].cert && (c.stores[id] == NULL ||
		    X509_STORE_add_cert(c.stores[id], c.cas[id].cert) != 1))
			ku_ca_clear(&c.cas[id]);
		free(rel);
		ku_want_ca(&w, (enum ku_ca_id)id);
		ku_check_pair(&c, &w);
		ku_want_free(&w);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_control_plane_defs); i++) {
		if (ku_want_leaf(pki, &ku_control_plane_defs[i], &w, &err) !=
		    KU_OK) {
			ku_strv_push_owned(problems, err);
			err = NULL;
			continue;
		}
		ku_check_pair(&c, &w);
		ku_want_free(&w);
	}
	ku_check_sa(&c);
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		const struct ku_machine *m = ku_spec_machine(spec, i);
		char *user = xasprintf("system:node:%s", m->name);

		rel = xasprintf("pki/nodes/%s", m->name);
		ku_check_mode(&c, rel, 0700, true);
		free(rel);
		ku_want_kubelet(m, true, &w);
		ku_check_pair(&c, &w);
		ku_want_free(&w);
		ku_want_kubelet(m, false, &w);
		ku_check_pair(&c, &w);
		rel = xasprintf("kubeconfig/kubelet/%s.conf", m->name);
		ku_check_kubeconfig(&c, rel, user, &w);
		ku_want_free(&w);
		free(rel);
		free(user);
	}
	ku_check_encryption(&c);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_kubeconfig_defs); i++) {
		ku_want_kubeconfig(&ku_kubeconfig_defs[i], &w);
		ku_check_kubeconfig(&c, w.file, w.cn, &w);
		ku_want_free(&w);
	}
	for (int id = 0; id < KU_CA__COUNT; id++) {
		X509_STORE_free(c.stores[id]);
		ku_ca_clear(&c.cas[id]);
	}
	rc = problems->n > before ? KU_ERR_CHECK : KU_OK;
	return rc;
}

/* --- kubeup certs --- */

static void
ku_list_one(FILE *out, const char *rel, X509 *cert, const char *why,
    int width)
{
	char when[40], days[24];
	struct ku_strv sans = { 0 };
	char *subject, *list;
	int d = 0, s = 0;

	if (cert == NULL) {
		fprintf(out, "%-*s  %s\n", width, rel, why);
		return;
	}
	subject = ku_name_text(X509_get_subject_name(cert));
	ku_asn1_time_text(X509_get0_notAfter(cert), when, sizeof when);
	if (ASN1_TIME_diff(&d, &s, NULL, X509_get0_notAfter(cert)) != 1)
		snprintf(days, sizeof days, "?");
	else if (d < 0 || (d == 0 && s <= 0))
		snprintf(days, sizeof days, "%s", _("expired"));
	else
		snprintf(days, sizeof days, "%d", d);
	ku_cert_sans(cert, &sans);
	list = sans.n ? ku_strjoin((const char *const *)sans.v, sans.n, ",") :
	    xstrdup("-");
	fprintf(out, "%-*s  %-56s  %-20s  %7s  %s\n", width, rel, subject,
	    when, days, list);
	free(list);
	free(subject);
	ku_strv_free(&sans);
}

static void
ku_list_crt(struct ku_pki *pki, FILE *out, const char *file, int width)
{
	char *crt = ku_rel(file, ".crt"), *why = NULL;
	X509 *cert = NULL;

	if (!ku_rel_exists(pki, crt))
		why = xasprintf("(%s)", _("missing"));
	else
		cert = ku_read_cert(pki, crt, &why);
	ku_list_one(out, crt, cert, why, width);
	X509_free(cert);
	free(why);
	free(crt);
}

static void
ku_list_kubeconfig(struct ku_pki *pki, FILE *out, const char *rel, int width)
{
	char *path = ku_abs(pki, rel), *why = NULL;
	struct ku_buf text;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;

	ku_buf_init(&text, 0);
	if (!ku_path_exists(path))
		why = xasprintf("(%s)", _("missing"));
	else if (ku_slurp(path, &text, &why))
		ku_kubeconfig_creds(pki, text.data, &cert, &key, NULL, NULL,
		    &why);
	ku_list_one(out, rel, cert, why, width);
	ku_buf_wipe(&text);
	X509_free(cert);
	EVP_PKEY_free(key);
	free(why);
	free(path);
}

ku_rc
ku_pki_list(struct ku_pki *pki, FILE *out, char **err)
{
	const struct ku_spec *spec = pki->spec;
	char *dir = ku_abs(pki, "pki"), *file;
	int width = 36;

	if (!ku_path_exists(dir)) {
		*err = xasprintf(_("%s: no certificates yet: phase 2 makes them "
		    "(kubeup --batch FILE --phases 2)"), dir);
		free(dir);
		return KU_ERR_STATE;
	}
	free(dir);
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		int n = (int)strlen(ku_spec_machine(spec, i)->name) + 34;
		if (n > width)
			width = n;
	}
	fprintf(out, "%-*s  %-56s  %-20s  %7s  %s\n", width, _("FILE"),
	    _("SUBJECT"), _("NOT AFTER"), _("DAYS"), _("NAMES"));
	for (int id = 0; id < KU_CA__COUNT; id++)
		ku_list_crt(pki, out, ku_ca_defs[id].file, width);
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_control_plane_defs); i++)
		ku_list_crt(pki, out, ku_control_plane_defs[i].file, width);
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		const struct ku_machine *m = ku_spec_machine(spec, i);
		file = xasprintf("pki/nodes/%s/kubelet-client", m->name);
		ku_list_crt(pki, out, file, width);
		free(file);
		file = xasprintf("pki/nodes/%s/kubelet", m->name);
		ku_list_crt(pki, out, file, width);
		free(file);
	}
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_kubeconfig_defs); i++)
		ku_list_kubeconfig(pki, out, ku_kubeconfig_defs[i].file, width);
	for (size_t i = 0; i < ku_spec_n_machines(spec); i++) {
		file = xasprintf("kubeconfig/kubelet/%s.conf",
		    ku_spec_machine(spec, i)->name);
		ku_list_kubeconfig(pki, out, file, width);
		free(file);
	}
	return KU_OK;
}
