/* tinyglib: drop-in <glib.h> for the GLib 2.74 subset that upstream LibVMI uses.
 *
 * Every function is exported as tinyglib_<glib name>; the GLib names below are macros
 * that map onto them, so code written for GLib compiles unmodified and the real GLib
 * can coexist in the same process. Memory returned to callers comes from malloc():
 * g_free() and free() mix both ways. */
#ifndef TINYGLIB_GLIB_H
#define TINYGLIB_GLIB_H

/* What real glib.h pulls in transitively and GLib users rely on (va_start in
 * examples/win-offsets.c, size_t, strlen, ...). */
#include <stddef.h>
#include <stdarg.h>
#include <limits.h>
#include <string.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TINYGLIB 1

#if defined(__GNUC__)
#define TINYGLIB_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))
#define TINYGLIB_NULL_TERMINATED __attribute__((__sentinel__))
#else
#define TINYGLIB_PRINTF(f, a)
#define TINYGLIB_NULL_TERMINATED
#endif

/* ---- Version ------------------------------------------------------------------- */
#define GLIB_MAJOR_VERSION 2
#define GLIB_MINOR_VERSION 74
#define GLIB_MICRO_VERSION 6
#define GLIB_CHECK_VERSION(major, minor, micro)                                        \
    (GLIB_MAJOR_VERSION > (major) ||                                                   \
     (GLIB_MAJOR_VERSION == (major) && GLIB_MINOR_VERSION > (minor)) ||                \
     (GLIB_MAJOR_VERSION == (major) && GLIB_MINOR_VERSION == (minor) &&                \
      GLIB_MICRO_VERSION >= (micro)))

/* ---- Scalar types (LP64) ------------------------------------------------------- */
typedef char gchar;
typedef unsigned char guchar;
typedef int gint;
typedef unsigned int guint;
typedef short gshort;
typedef unsigned short gushort;
typedef long glong;
typedef unsigned long gulong;
typedef signed char gint8;
typedef unsigned char guint8;
typedef signed short gint16;
typedef unsigned short guint16;
typedef signed int gint32;
typedef unsigned int guint32;
typedef signed long gint64;
typedef unsigned long guint64;
typedef gint gboolean;
typedef unsigned long gsize;
typedef signed long gssize;
typedef void *gpointer;
typedef const void *gconstpointer;

/* ---- Macros ---------------------------------------------------------------------- */
#ifndef FALSE
#define FALSE (0)
#endif
#ifndef TRUE
#define TRUE (!FALSE)
#endif

#undef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#undef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))

/* Through (g)long so 64-bit values survive (LibVMI relies on it). */
#define GINT_TO_POINTER(i) ((gpointer)(glong)(i))
#define GUINT_TO_POINTER(u) ((gpointer)(gulong)(u))
#define GPOINTER_TO_INT(p) ((gint)(glong)(p))
#define GPOINTER_TO_UINT(p) ((guint)(gulong)(p))
#define GSIZE_TO_POINTER(s) ((gpointer)(gsize)(s))
#define GPOINTER_TO_SIZE(p) ((gsize)(p))

/* ---- Callback types ------------------------------------------------------------- */
typedef void (*GDestroyNotify)(gpointer data);
typedef guint (*GHashFunc)(gconstpointer key);
typedef gboolean (*GEqualFunc)(gconstpointer a, gconstpointer b);
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gint (*GCompareFunc)(gconstpointer a, gconstpointer b);
typedef gint (*GCompareDataFunc)(gconstpointer a, gconstpointer b, gpointer user_data);
typedef gboolean (*GTraverseFunc)(gpointer key, gpointer value, gpointer user_data);

/* ---- Container types (GLib's public layouts; GHashTable and GTree opaque) ------- */
typedef struct _GHashTable GHashTable;
typedef struct _GTree GTree;

typedef struct _GHashTableIter GHashTableIter;
struct _GHashTableIter {
    gpointer dummy1;
    gpointer dummy2;
    gpointer dummy3;
    int dummy4;
    gboolean dummy5;
    gpointer dummy6;
};

typedef struct _GSList GSList;
struct _GSList {
    gpointer data;
    GSList *next;
};

typedef struct _GList GList;
struct _GList {
    gpointer data;
    GList *next;
    GList *prev;
};

typedef struct _GQueue GQueue;
struct _GQueue {
    GList *head;
    GList *tail;
    guint length;
};

/* ---- Name mapping: GLib names -> exported tinyglib_ symbols --------------------- */
#define g_malloc tinyglib_g_malloc
#define g_try_malloc0 tinyglib_g_try_malloc0
#define g_try_malloc0_n tinyglib_g_try_malloc0_n
#ifndef __clang_analyzer__
#define g_free tinyglib_g_free
#endif /* else: LibVMI's cache.c defines g_free as free for the analyzer (which never links) */
#define g_memdup2 tinyglib_g_memdup2
#define g_slice_alloc tinyglib_g_slice_alloc
#define g_slice_free1 tinyglib_g_slice_free1
#define g_strdup tinyglib_g_strdup
#define g_strndup tinyglib_g_strndup
#define g_strdup_printf tinyglib_g_strdup_printf
#define g_strconcat tinyglib_g_strconcat
#define g_stpcpy tinyglib_g_stpcpy
#define g_strlcpy tinyglib_g_strlcpy
#define g_strlcat tinyglib_g_strlcat
#define g_strcmp0 tinyglib_g_strcmp0
#define g_ascii_strdown tinyglib_g_ascii_strdown
#define g_str_hash tinyglib_g_str_hash
#define g_str_equal tinyglib_g_str_equal
#define g_direct_hash tinyglib_g_direct_hash
#define g_direct_equal tinyglib_g_direct_equal
#define g_int64_hash tinyglib_g_int64_hash
#define g_int64_equal tinyglib_g_int64_equal
#define g_hash_table_new tinyglib_g_hash_table_new
#define g_hash_table_new_full tinyglib_g_hash_table_new_full
#define g_hash_table_insert tinyglib_g_hash_table_insert
#define g_hash_table_replace tinyglib_g_hash_table_replace
#define g_hash_table_lookup tinyglib_g_hash_table_lookup
#define g_hash_table_remove tinyglib_g_hash_table_remove
#define g_hash_table_remove_all tinyglib_g_hash_table_remove_all
#define g_hash_table_size tinyglib_g_hash_table_size
#define g_hash_table_foreach tinyglib_g_hash_table_foreach
#define g_hash_table_foreach_remove tinyglib_g_hash_table_foreach_remove
#define g_hash_table_iter_init tinyglib_g_hash_table_iter_init
#define g_hash_table_iter_next tinyglib_g_hash_table_iter_next
#define g_hash_table_destroy tinyglib_g_hash_table_destroy
#define g_slist_prepend tinyglib_g_slist_prepend
#define g_slist_append tinyglib_g_slist_append
#define g_slist_concat tinyglib_g_slist_concat
#define g_slist_find_custom tinyglib_g_slist_find_custom
#define g_slist_length tinyglib_g_slist_length
#define g_slist_free tinyglib_g_slist_free
#define g_slist_free_full tinyglib_g_slist_free_full
#define g_queue_new tinyglib_g_queue_new
#define g_queue_free tinyglib_g_queue_free
#define g_queue_get_length tinyglib_g_queue_get_length
#define g_queue_push_head tinyglib_g_queue_push_head
#define g_queue_pop_tail tinyglib_g_queue_pop_tail
#define g_queue_find tinyglib_g_queue_find
#define g_queue_unlink tinyglib_g_queue_unlink
#define g_queue_push_head_link tinyglib_g_queue_push_head_link
#define g_tree_new_full tinyglib_g_tree_new_full
#define g_tree_insert tinyglib_g_tree_insert
#define g_tree_lookup tinyglib_g_tree_lookup
#define g_tree_remove tinyglib_g_tree_remove
#define g_tree_foreach tinyglib_g_tree_foreach
#define g_tree_destroy tinyglib_g_tree_destroy

/* ---- Memory ---------------------------------------------------------------------- */
gpointer g_malloc(gsize n_bytes);
gpointer g_try_malloc0(gsize n_bytes);
gpointer g_try_malloc0_n(gsize n_blocks, gsize n_block_bytes);
void g_free(gpointer mem);
gpointer g_memdup2(gconstpointer mem, gsize byte_size);
gpointer g_slice_alloc(gsize block_size);
void g_slice_free1(gsize block_size, gpointer mem_block);

/* g_slice_new memory is uninitialised, as in GLib. */
#define g_slice_new(type) ((type *)g_slice_alloc(sizeof(type)))
#define g_slice_free(type, mem)                                                        \
    do {                                                                               \
        if (1)                                                                         \
            g_slice_free1(sizeof(type), (mem));                                        \
        else                                                                           \
            (void)((type *)0 == (mem));                                                \
    } while (0)
#define g_try_new0(struct_type, n_structs)                                             \
    ((struct_type *)g_try_malloc0_n((gsize)(n_structs), sizeof(struct_type)))

/* ---- Strings --------------------------------------------------------------------- */
gchar *g_strdup(const gchar *str);
gchar *g_strndup(const gchar *str, gsize n);
gchar *g_strdup_printf(const gchar *format, ...) TINYGLIB_PRINTF(1, 2);
gchar *g_strconcat(const gchar *string1, ...) TINYGLIB_NULL_TERMINATED;
gchar *g_stpcpy(gchar *dest, const char *src);
gsize g_strlcpy(gchar *dest, const gchar *src, gsize dest_size);
gsize g_strlcat(gchar *dest, const gchar *src, gsize dest_size);
int g_strcmp0(const char *str1, const char *str2);
gchar *g_ascii_strdown(const gchar *str, gssize len);

/* ---- Hash and equality functions ------------------------------------------------- */
guint g_str_hash(gconstpointer v);
gboolean g_str_equal(gconstpointer v1, gconstpointer v2);
guint g_direct_hash(gconstpointer v);
gboolean g_direct_equal(gconstpointer v1, gconstpointer v2);
guint g_int64_hash(gconstpointer v);
gboolean g_int64_equal(gconstpointer v1, gconstpointer v2);

/* ---- GHashTable ------------------------------------------------------------------- */
GHashTable *g_hash_table_new(GHashFunc hash_func, GEqualFunc key_equal_func);
GHashTable *g_hash_table_new_full(GHashFunc hash_func, GEqualFunc key_equal_func,
                                  GDestroyNotify key_destroy_func,
                                  GDestroyNotify value_destroy_func);
gboolean g_hash_table_insert(GHashTable *hash_table, gpointer key, gpointer value);
gboolean g_hash_table_replace(GHashTable *hash_table, gpointer key, gpointer value);
gpointer g_hash_table_lookup(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_remove(GHashTable *hash_table, gconstpointer key);
void g_hash_table_remove_all(GHashTable *hash_table);
guint g_hash_table_size(GHashTable *hash_table);
void g_hash_table_foreach(GHashTable *hash_table, GHFunc func, gpointer user_data);
guint g_hash_table_foreach_remove(GHashTable *hash_table, GHRFunc func, gpointer user_data);
void g_hash_table_iter_init(GHashTableIter *iter, GHashTable *hash_table);
gboolean g_hash_table_iter_next(GHashTableIter *iter, gpointer *key, gpointer *value);
void g_hash_table_destroy(GHashTable *hash_table);

/* ---- GSList ------------------------------------------------------------------------ */
GSList *g_slist_prepend(GSList *list, gpointer data);
GSList *g_slist_append(GSList *list, gpointer data);
GSList *g_slist_concat(GSList *list1, GSList *list2);
GSList *g_slist_find_custom(GSList *list, gconstpointer data, GCompareFunc func);
guint g_slist_length(GSList *list);
void g_slist_free(GSList *list);
void g_slist_free_full(GSList *list, GDestroyNotify free_func);

/* ---- GQueue ------------------------------------------------------------------------ */
GQueue *g_queue_new(void);
void g_queue_free(GQueue *queue);
guint g_queue_get_length(GQueue *queue);
void g_queue_push_head(GQueue *queue, gpointer data);
gpointer g_queue_pop_tail(GQueue *queue);
GList *g_queue_find(GQueue *queue, gconstpointer data);
void g_queue_unlink(GQueue *queue, GList *link_);
void g_queue_push_head_link(GQueue *queue, GList *link_);

/* ---- GTree ------------------------------------------------------------------------- */
GTree *g_tree_new_full(GCompareDataFunc key_compare_func, gpointer key_compare_data,
                       GDestroyNotify key_destroy_func, GDestroyNotify value_destroy_func);
void g_tree_insert(GTree *tree, gpointer key, gpointer value);
gpointer g_tree_lookup(GTree *tree, gconstpointer key);
gboolean g_tree_remove(GTree *tree, gconstpointer key);
void g_tree_foreach(GTree *tree, GTraverseFunc func, gpointer user_data);
void g_tree_destroy(GTree *tree);

#ifdef __cplusplus
}
#endif

#endif /* TINYGLIB_GLIB_H */
