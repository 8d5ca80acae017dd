/* C behaviour tests of the GLIB_SUBSET.md semantic points, compiled against the drop-in
 * <glib.h> (-Wall -Werror) and run from tests/c_behaviour.rs. Each test returns 0 on
 * success, else the failing line. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK(c)                                                                       \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);      \
            return __LINE__;                                                           \
        }                                                                              \
    } while (0)

/* The legacy branch of LibVMI's glib_compat.h must stay compiled out. */
#if !GLIB_CHECK_VERSION(2, 22, 0)
static guint g_int64_hash(gconstpointer v) { return (guint) * (const gint64 *)v; }
#endif

/* A log of notifier calls: 'k'/'v' plus the pointer. */
static char log_kind[64];
static gpointer log_ptr[64];
static int log_n;
static GHashTable *watched;
static guint size_seen;
static gpointer lookup_seen;
static gconstpointer lookup_key;

static void log_reset(void) { log_n = 0; }
static void note(char kind, gpointer p)
{
    if (log_n < 64) {
        log_kind[log_n] = kind;
        log_ptr[log_n] = p;
    }
    log_n++;
    if (watched) {
        size_seen = g_hash_table_size(watched);
        lookup_seen = g_hash_table_lookup(watched, lookup_key);
    }
}
static void key_free(gpointer p) { note('k', p); g_free(p); }
static void value_free(gpointer p) { note('v', p); free(p); }
static void key_note(gpointer p) { note('k', p); }
static void value_note(gpointer p) { note('v', p); }

int tinyglib_ctest_version_and_macros(void)
{
    CHECK(GLIB_CHECK_VERSION(2, 67, 3));
    CHECK(GLIB_CHECK_VERSION(2, 74, 6));
    CHECK(!GLIB_CHECK_VERSION(2, 74, 7));
    CHECK(!GLIB_CHECK_VERSION(3, 0, 0));
    CHECK(GLIB_MAJOR_VERSION == 2 && GLIB_MINOR_VERSION == 74 && GLIB_MICRO_VERSION == 6);
    CHECK(TRUE == 1 && FALSE == 0);
    CHECK(MIN(3, 4) == 3 && MAX(3, 4) == 4);
    uint64_t rva = 0x100000010ULL;
    CHECK((uintptr_t)GUINT_TO_POINTER(rva) == 0x100000010ULL);
    CHECK((intptr_t)GINT_TO_POINTER(-1) == -1);
    CHECK(GPOINTER_TO_UINT(GSIZE_TO_POINTER(rva)) == 0x10);
    CHECK(GPOINTER_TO_SIZE(GSIZE_TO_POINTER(rva)) == rva);
    CHECK(GPOINTER_TO_INT(GINT_TO_POINTER(-5)) == -5);
    CHECK(sizeof(gboolean) == 4 && sizeof(gint64) == 8 && sizeof(gsize) == 8);
    CHECK(sizeof(GHashTableIter) == 40 && sizeof(GSList) == 16 && sizeof(GList) == 24 &&
          sizeof(GQueue) == 24);
    /* 64-bit keys through GUINT_TO_POINTER stay distinct (rva_cache). */
    GHashTable *t = g_hash_table_new(g_direct_hash, g_direct_equal);
    CHECK(g_hash_table_insert(t, GUINT_TO_POINTER(0x10), GINT_TO_POINTER(1)));
    CHECK(g_hash_table_insert(t, GUINT_TO_POINTER(rva), GINT_TO_POINTER(2)));
    CHECK(g_hash_table_size(t) == 2);
    CHECK(g_hash_table_lookup(t, GINT_TO_POINTER(rva)) == GINT_TO_POINTER(2));
    /* NULL keys work. */
    CHECK(g_hash_table_insert(t, GSIZE_TO_POINTER(0), GINT_TO_POINTER(3)));
    CHECK(g_hash_table_lookup(t, NULL) == GINT_TO_POINTER(3));
    g_hash_table_destroy(t);
    return 0;
}

int tinyglib_ctest_memory_and_strings(void)
{
    /* g_* and libc allocations mix both ways. */
    free(g_strdup("abc"));
    g_free(strdup("abc"));
    g_free(malloc(10));
    free(g_malloc(10));
    free(g_try_malloc0(10));
    CHECK(g_malloc(0) == NULL);
    CHECK(g_try_malloc0(0) == NULL);
    CHECK(g_try_malloc0(SIZE_MAX) == NULL);
    CHECK(g_try_new0(int, 0) == NULL);
    volatile gsize n = 3;
    int *arr = g_try_new0(int, n);
    CHECK(arr && arr[0] == 0 && arr[2] == 0);
    g_free(arr);
    CHECK(g_try_new0(int, SIZE_MAX / 2) == NULL);
    struct pair { int a, b; } *p = g_slice_new(struct pair);
    CHECK(p);
    p->a = 1;
    g_slice_free(struct pair, p);
    CHECK(g_memdup2(NULL, 3) == NULL && g_memdup2("x", 0) == NULL);
    char *m = g_memdup2("xyz", 3);
    CHECK(memcmp(m, "xyz", 3) == 0);
    free(m);

    const char *volatile backend_path = NULL; /* xs_read() failed, as in xen.c */
    char *s = g_strdup_printf("%s/type", backend_path);
    CHECK(strcmp(s, "(null)/type") == 0);
    free(s);
    s = g_strdup_printf("%u %lu %s", 7u, 18446744073709551615UL, "x");
    CHECK(strcmp(s, "7 18446744073709551615 x") == 0);
    g_free(s);
    s = g_strconcat("/local/domain/", "5", "/name", NULL);
    CHECK(strcmp(s, "/local/domain/5/name") == 0);
    free(s);
    const char *home = NULL;
    CHECK(g_strconcat(home, "/etc", NULL) == NULL);
    CHECK(g_strdup(NULL) == NULL && g_strndup(NULL, 3) == NULL);
    s = g_strndup("abcdef", 3);
    CHECK(strcmp(s, "abc") == 0);
    g_free(s);
    s = g_strndup("ab", 100);
    CHECK(strcmp(s, "ab") == 0 && s[99] == 0 && s[100] == 0);
    g_free(s);

    char buf[32];
    CHECK(g_stpcpy(buf, "abc") == buf + 3 && strcmp(buf, "abc") == 0);
    CHECK(g_stpcpy(NULL, "abc") == NULL);
    char seg[16];
    memset(seg, 'A', sizeof seg); /* unterminated 16-byte source, as osx/core.c */
    char big[20];
    memcpy(big, seg, 16);
    big[16] = 'B';
    big[17] = 0;
    CHECK(g_strlcpy(buf, big, 16) == 17 && strlen(buf) == 15);
    CHECK(g_strlcpy(buf, "abc", 0) == 3);
    CHECK(g_strlcpy(buf, NULL, 3) == 0 && g_strlcat(buf, NULL, 3) == 0);
    char d[8] = "";
    CHECK(g_strlcat(d, "info", 5) == 4 && strcmp(d, "info") == 0);
    d[0] = 0;
    CHECK(g_strlcat(d, "infoX", 5) == 5 && strcmp(d, "info") == 0);
    strcpy(d, "ab");
    CHECK(g_strlcat(d, "cdef", 5) == 6 && strcmp(d, "abcd") == 0);
    char un[4] = {'x', 'y', 'z', 'w'};
    CHECK(g_strlcat(un, "ab", 4) == 6);
    CHECK(g_strcmp0(NULL, NULL) == 0 && g_strcmp0(NULL, "a") == -1 && g_strcmp0("a", NULL) == 1);
    CHECK(g_strcmp0("a", "c") == -2 && !g_strcmp0("hvm", "hvm"));
    s = g_ascii_strdown("LiNuX\xC3\x89", -1);
    CHECK(strcmp(s, "linux\xC3\x89") == 0);
    free(s);
    s = g_ascii_strdown("ABCDEF", 2);
    CHECK(strcmp(s, "ab") == 0);
    g_free(s);
    CHECK(g_ascii_strdown(NULL, -1) == NULL);
    return 0;
}

int tinyglib_ctest_hash_functions(void)
{
    CHECK(g_str_hash("") == 5381 && g_str_hash("a") == 177670);
    CHECK(g_str_hash("abc") == 193485963u && g_str_hash("\xff") == 177572);
    CHECK(g_str_hash("ostype") == 321802761u);
    CHECK(g_str_equal("a", "a") == TRUE && g_str_equal("a", "b") == FALSE);
    CHECK(g_direct_hash((gconstpointer)0x123456789abcUL) == 0x56789abcu);
    CHECK(g_direct_equal(GINT_TO_POINTER(3), GINT_TO_POINTER(3)) == TRUE);
    gint64 big = (gint64)1 << 32;
    CHECK(g_int64_hash(&big) == 0);
    /* Address-taken: these must be real functions. */
    GHashFunc hf[3] = {g_str_hash, g_direct_hash, g_int64_hash};
    GEqualFunc ef[2] = {g_str_equal, g_direct_equal};
    GDestroyNotify df[2] = {g_free, (GDestroyNotify)g_hash_table_destroy};
    CHECK(hf[0] && hf[1] && hf[2] && ef[0] && ef[1] && df[0] && df[1]);
    return 0;
}

int tinyglib_ctest_insert_replace_remove(void)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, key_free, value_free);
    char *k1 = g_strdup("sym"), *v1 = g_strdup("v1");
    char *k2 = g_strdup("sym"), *v2 = g_strdup("v2");
    CHECK(g_hash_table_insert(t, k1, v1) == TRUE);
    log_reset();
    /* insert on a present key: old key kept, key_destroy(new key) then value_destroy(old). */
    CHECK(g_hash_table_insert(t, k2, v2) == FALSE);
    CHECK(log_n == 2 && log_kind[0] == 'k' && log_ptr[0] == k2 && log_kind[1] == 'v' &&
          log_ptr[1] == v1);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t);
    CHECK(g_hash_table_iter_next(&it, &k, &v) && k == k1 && v == v2);
    /* replace: new key kept, key_destroy(old key) then value_destroy(old value). */
    char *k3 = g_strdup("sym"), *v3 = g_strdup("v3");
    log_reset();
    CHECK(g_hash_table_replace(t, k3, v3) == FALSE);
    CHECK(log_n == 2 && log_ptr[0] == k1 && log_ptr[1] == v2);
    g_hash_table_iter_init(&it, t);
    CHECK(g_hash_table_iter_next(&it, &k, NULL) && k == k3);
    CHECK(g_hash_table_replace(t, g_strdup("new"), g_strdup("nv")) == TRUE);
    /* remove: exactly 1/0; detached (size decremented, lookup NULL) before notifiers. */
    watched = t;
    lookup_key = "sym";
    size_seen = 99;
    lookup_seen = (gpointer)1;
    log_reset();
    CHECK(TRUE == g_hash_table_remove(t, "sym"));
    CHECK(size_seen == 1 && lookup_seen == NULL);
    CHECK(log_n == 2 && log_ptr[0] == k3 && log_ptr[1] == v3);
    CHECK(g_hash_table_remove(t, "sym") == 0);
    /* remove_all: empty before any notifier. */
    CHECK(g_hash_table_insert(t, g_strdup("a"), g_strdup("1")));
    size_seen = 99;
    log_reset();
    g_hash_table_remove_all(t);
    CHECK(size_seen == 0 && log_n == 4 && g_hash_table_size(t) == 0);
    CHECK(log_kind[0] == 'k' && log_kind[1] == 'v' && log_kind[2] == 'k' && log_kind[3] == 'v');
    /* The table is still usable. */
    CHECK(g_hash_table_insert(t, g_strdup("b"), g_strdup("2")));
    size_seen = 99;
    log_reset();
    g_hash_table_destroy(t);
    CHECK(size_seen == 0 && log_n == 2);
    watched = NULL;
    return 0;
}

/* Nested tables freed by the outer value notifier (LibVMI's caches). */
int tinyglib_ctest_nested_destroy(void)
{
    GHashTable *outer = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                              (GDestroyNotify)g_hash_table_destroy);
    for (gsize i = 0; i < 50; i++) {
        GHashTable *inner = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (int j = 0; j < 20; j++) {
            char *key = g_strdup_printf("k%d", j);
            g_hash_table_insert(inner, key, g_strdup("v"));
        }
        g_hash_table_insert(outer, GSIZE_TO_POINTER(i), inner);
    }
    /* Overwriting a value destroys the old nested table. */
    g_hash_table_insert(outer, GSIZE_TO_POINTER(0), g_hash_table_new(g_direct_hash, g_direct_equal));
    CHECK(g_hash_table_size(outer) == 50);
    g_hash_table_remove_all(outer);
    CHECK(g_hash_table_size(outer) == 0);
    g_hash_table_insert(outer, GSIZE_TO_POINTER(1), g_hash_table_new(NULL, NULL));
    g_hash_table_destroy(outer);
    return 0;
}

static GHashTable *fr_table;
static int fr_visits;
static int fr_bad;
static gboolean remove_even(gpointer k, gpointer v, gpointer ud)
{
    (void)v;
    (void)ud;
    fr_visits++;
    /* Every entry removed earlier is already gone, notifier included. */
    for (int i = 0; i < log_n && i < 64; i += 2)
        if (g_hash_table_lookup(fr_table, log_ptr[i]) != NULL)
            fr_bad++;
    if (g_hash_table_size(fr_table) != 10 - (guint)(log_n / 2))
        fr_bad++;
    return GPOINTER_TO_SIZE(k) % 2 == 0;
}

static GHashTable *other_table;
static gboolean clear_events(gpointer k, gpointer v, gpointer ud)
{
    (void)v;
    (void)ud;
    /* Re-enter the library on other containers, like vmi_clear_event. */
    g_hash_table_remove(other_table, k);
    GHashTable *tmp = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    g_hash_table_insert(tmp, k, g_strdup("x"));
    g_hash_table_destroy(tmp);
    return TRUE;
}

static int fe_calls;
static void add_one(gpointer k, gpointer v, gpointer ud)
{
    (void)k;
    (void)v;
    fe_calls++;
    g_hash_table_insert((GHashTable *)ud, GSIZE_TO_POINTER(1000 + fe_calls), NULL);
}
static gboolean remove_other(gpointer k, gpointer v, gpointer ud)
{
    (void)v;
    fe_calls++;
    /* Remove another present entry (odd keys 1..9 are left). */
    g_hash_table_remove((GHashTable *)ud, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(k) == 1 ? 3 : 1));
    return TRUE;
}

int tinyglib_ctest_foreach_and_iteration(void)
{
    GHashTable *t = g_hash_table_new_full(g_direct_hash, g_direct_equal, key_note, value_note);
    for (gsize i = 0; i < 10; i++)
        g_hash_table_insert(t, GSIZE_TO_POINTER(i), GSIZE_TO_POINTER(i + 100));
    fr_table = t;
    fr_visits = fr_bad = 0;
    log_reset();
    CHECK(g_hash_table_foreach_remove(t, remove_even, NULL) == 5);
    CHECK(fr_visits == 10 && fr_bad == 0 && log_n == 10 && g_hash_table_size(t) == 5);

    /* foreach: adding an entry ends the loop after that callback. */
    fe_calls = 0;
    g_hash_table_foreach(t, add_one, t);
    CHECK(fe_calls == 1 && g_hash_table_size(t) == 6);
    /* foreach_remove whose callback removes another entry: stops, returns 0. */
    fe_calls = 0;
    CHECK(g_hash_table_foreach_remove(t, remove_other, t) == 0);
    CHECK(fe_calls == 1);

    /* LibVMI's ghashtable_foreach macro with a callback that registers a new event. */
    GHashTableIter it;
    gpointer k, v;
    int visited = 0;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        visited++;
        g_hash_table_insert(t, GSIZE_TO_POINTER(5000 + visited), NULL);
    }
    CHECK(visited == 1);
    /* Value overwrite during iteration keeps iterating. */
    visited = 0;
    guint size = g_hash_table_size(t);
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        visited++;
        g_hash_table_insert(t, k, GSIZE_TO_POINTER(7));
    }
    CHECK((guint)visited == size);
    g_hash_table_destroy(t);

    /* foreach_remove callbacks re-entering other tables. */
    other_table = g_hash_table_new(g_direct_hash, g_direct_equal);
    t = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (gsize i = 1; i <= 100; i++) {
        g_hash_table_insert(t, GSIZE_TO_POINTER(i), NULL);
        g_hash_table_insert(other_table, GSIZE_TO_POINTER(i), NULL);
    }
    CHECK(g_hash_table_foreach_remove(t, clear_events, NULL) == 100);
    CHECK(g_hash_table_size(t) == 0 && g_hash_table_size(other_table) == 0);
    g_hash_table_destroy(t);
    g_hash_table_destroy(other_table);
    return 0;
}

static gint domains_compare(gconstpointer a, gconstpointer b, gpointer ud)
{
    (void)ud;
    return GPOINTER_TO_INT(a) - GPOINTER_TO_INT(b);
}
static int shutdown_calls;
static gpointer shutdown_seen;
static gboolean check_domain_shutdown(gpointer k, gpointer v, gpointer ud)
{
    (void)v;
    (void)ud;
    shutdown_calls++;
    shutdown_seen = k;
    return 1;
}
static gpointer tree_keys[16];
static int tree_nkeys;
static gboolean collect_keys(gpointer k, gpointer v, gpointer ud)
{
    (void)v;
    (void)ud;
    tree_keys[tree_nkeys++] = k;
    return FALSE;
}

int tinyglib_ctest_tree(void)
{
    GTree *t = g_tree_new_full((GCompareDataFunc)domains_compare, NULL, key_note, value_note);
    int ids[] = {7, 3, 9, 1, 5};
    for (int i = 0; i < 5; i++)
        g_tree_insert(t, GINT_TO_POINTER(ids[i]), GINT_TO_POINTER(ids[i] * 10));
    tree_nkeys = 0;
    g_tree_foreach(t, collect_keys, NULL);
    CHECK(tree_nkeys == 5 && tree_keys[0] == GINT_TO_POINTER(1) && tree_keys[4] == GINT_TO_POINTER(9));
    shutdown_calls = 0;
    g_tree_foreach(t, check_domain_shutdown, NULL);
    CHECK(shutdown_calls == 1 && shutdown_seen == GINT_TO_POINTER(1));
    /* Existing key: value_destroy(old value) then key_destroy(new key). */
    log_reset();
    g_tree_insert(t, GINT_TO_POINTER(3), GINT_TO_POINTER(33));
    CHECK(log_n == 2 && log_kind[0] == 'v' && log_ptr[0] == GINT_TO_POINTER(30) &&
          log_kind[1] == 'k' && log_ptr[1] == GINT_TO_POINTER(3));
    CHECK(g_tree_lookup(t, GINT_TO_POINTER(3)) == GINT_TO_POINTER(33));
    log_reset();
    CHECK(g_tree_remove(t, GINT_TO_POINTER(3)) == TRUE);
    CHECK(log_n == 2 && log_kind[0] == 'k' && log_kind[1] == 'v');
    CHECK(g_tree_remove(t, GINT_TO_POINTER(3)) == FALSE);
    CHECK(g_tree_lookup(t, GINT_TO_POINTER(3)) == NULL);
    log_reset();
    g_tree_destroy(t);
    CHECK(log_n == 8 && log_kind[0] == 'k' && log_ptr[0] == GINT_TO_POINTER(1) &&
          log_kind[1] == 'v' && log_ptr[6] == GINT_TO_POINTER(9));
    return 0;
}

int tinyglib_ctest_queue_and_slist(void)
{
    /* memory_cache.c's LRU: duplicates allowed, find returns the head-most. */
    GQueue *q = g_queue_new();
    CHECK(q->head == NULL && q->tail == NULL && q->length == 0);
    g_queue_push_head(q, GSIZE_TO_POINTER(0x1000));
    g_queue_push_head(q, GSIZE_TO_POINTER(0x2000));
    g_queue_push_head(q, GSIZE_TO_POINTER(0x1000));
    g_queue_push_head(q, NULL);
    CHECK(g_queue_get_length(q) == 4);
    GList *l = g_queue_find(q, GSIZE_TO_POINTER(0x1000));
    CHECK(l == q->head->next);
    g_queue_unlink(q, l);
    CHECK(l->next == NULL && l->prev == NULL && g_queue_get_length(q) == 3);
    g_queue_push_head_link(q, l);
    CHECK(q->head == l && g_queue_get_length(q) == 4);
    CHECK(g_queue_find(q, NULL) == q->head->next);
    CHECK(g_queue_pop_tail(q) == GSIZE_TO_POINTER(0x1000));
    CHECK(g_queue_pop_tail(q) == GSIZE_TO_POINTER(0x2000));
    CHECK(g_queue_pop_tail(q) == NULL); /* the NULL datum */
    CHECK(g_queue_pop_tail(q) == GSIZE_TO_POINTER(0x1000));
    CHECK(g_queue_pop_tail(q) == NULL && q->tail == NULL && q->head == NULL);
    g_queue_push_head(q, GSIZE_TO_POINTER(1));
    g_queue_free(q);

    GSList *s = NULL;
    CHECK(g_slist_length(s) == 0);
    s = g_slist_append(s, GINT_TO_POINTER(2));
    s = g_slist_prepend(s, GINT_TO_POINTER(1));
    s = g_slist_concat(s, g_slist_prepend(NULL, GINT_TO_POINTER(3)));
    CHECK(g_slist_length(s) == 3 && s->data == GINT_TO_POINTER(1) &&
          s->next->next->data == GINT_TO_POINTER(3));
    CHECK(g_slist_concat(NULL, s) == s);
    g_slist_free(s);
    GSList *strs = NULL;
    for (int i = 0; i < 5; i++)
        strs = g_slist_prepend(strs, g_strdup_printf("%d", i));
    g_slist_free_full(strs, g_free);
    g_slist_free(NULL);
    g_slist_free_full(NULL, g_free);
    return 0;
}

/* events.c swap_search_from: returns 1 when equal, reads user_data through its first
 * field; find_custom therefore returns the first element that differs. */
typedef struct { gpointer swap_from; } swap_wrapper_t;
static gint swap_search_from(gconstpointer a, gconstpointer b)
{
    const swap_wrapper_t *w = a;
    const swap_wrapper_t *want = b;
    return w->swap_from == want->swap_from;
}

int tinyglib_ctest_find_custom_argument_order(void)
{
    swap_wrapper_t w1 = {GINT_TO_POINTER(1)}, w2 = {GINT_TO_POINTER(2)};
    GSList *l = g_slist_append(g_slist_append(NULL, &w1), &w2);
    gpointer swap_from = GINT_TO_POINTER(1);
    GSList *f = g_slist_find_custom(l, &swap_from, swap_search_from);
    CHECK(f && f->data == &w2);
    CHECK(g_slist_find_custom(NULL, &swap_from, swap_search_from) == NULL);
    g_slist_free(l);
    return 0;
}

int tinyglib_ctest_null_preconditions(void)
{
    CHECK(g_hash_table_lookup(NULL, "x") == NULL);
    CHECK(g_hash_table_size(NULL) == 0);
    CHECK(g_hash_table_insert(NULL, NULL, NULL) == 0);
    CHECK(g_hash_table_replace(NULL, NULL, NULL) == 0);
    CHECK(g_hash_table_remove(NULL, NULL) == 0);
    CHECK(g_hash_table_foreach_remove(NULL, remove_even, NULL) == 0);
    g_hash_table_remove_all(NULL);
    g_hash_table_destroy(NULL);
    g_hash_table_foreach(NULL, add_one, NULL);
    GHashTable *t = g_hash_table_new(NULL, NULL);
    g_hash_table_foreach(t, NULL, NULL);
    CHECK(g_hash_table_foreach_remove(t, NULL, NULL) == 0);
    g_hash_table_destroy(t);
    CHECK(g_queue_get_length(NULL) == 0);
    CHECK(g_queue_pop_tail(NULL) == NULL);
    CHECK(g_queue_find(NULL, NULL) == NULL);
    g_queue_push_head(NULL, NULL);
    g_queue_free(NULL);
    CHECK(g_tree_lookup(NULL, NULL) == NULL);
    CHECK(g_tree_remove(NULL, NULL) == 0);
    g_tree_insert(NULL, NULL, NULL);
    g_tree_foreach(NULL, collect_keys, NULL);
    g_tree_destroy(NULL);
    CHECK(g_ascii_strdown(NULL, 0) == NULL);
    CHECK(g_stpcpy(NULL, "a") == NULL);
    char b[4];
    CHECK(g_strlcpy(b, NULL, 4) == 0 && g_strlcat(b, NULL, 4) == 0);
    return 0;
}
