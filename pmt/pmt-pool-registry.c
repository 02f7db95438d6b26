/* pmt-pool-registry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "pmt-deadline-private.h"
#include "pmt-error.h"
#include "pmt-i18n-private.h"
#include "pmt-pool-private.h"

/* The process-wide registry of pools by name: name → weak reference, so
 * it never keeps a pool alive and a lookup never revives one being
 * finalized.  A pool leaves it when it stopped or is finalized, whichever
 * comes first: its name is free again for a new pool. */
typedef struct
{
  GWeakRef ref;
  PmtPool *owner;
} RegistryEntry;

G_LOCK_DEFINE_STATIC (registry);
static GHashTable *registry;
static guint last_pool_serial;

static void
registry_entry_free (gpointer data)
{
  RegistryEntry *entry = data;

  g_weak_ref_clear (&entry->ref);
  g_free (entry);
}

void
_pmt_pool_unregister (PmtPool *self)
{
  G_LOCK (registry);
  if (registry != NULL)
    {
      RegistryEntry *entry = g_hash_table_lookup (registry, self->name);

      if (entry != NULL && entry->owner == self)
        g_hash_table_remove (registry, self->name);
    }
  G_UNLOCK (registry);
}

/* Takes the pool's name in the registry, unless a live pool has it. */
static gboolean
take_name (PmtPool  *self,
           GError  **error)
{
  RegistryEntry *entry;
  PmtPool *other;

  G_LOCK (registry);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, registry_entry_free);

  entry = g_hash_table_lookup (registry, self->name);
  other = entry != NULL ? g_weak_ref_get (&entry->ref) : NULL;
  if (other == NULL)
    {
      entry = g_new0 (RegistryEntry, 1);
      g_weak_ref_init (&entry->ref, self);
      entry->owner = self;
      g_hash_table_replace (registry, g_strdup (self->name), entry);
    }
  G_UNLOCK (registry);

  if (other == NULL)
    return TRUE;

  g_object_unref (other);
  g_set_error (error, PMT_ERROR, PMT_ERROR_NAME_IN_USE,
               _("A pool named “%s” exists already"), self->name);
  return FALSE;
}

/* Registers the pool under its name, or under a new one when it has
 * none: generated names may collide with names users chose, so another is
 * made until one is free. */
gboolean
_pmt_pool_register (PmtPool  *self,
                    GError  **error)
{
  if (self->name != NULL)
    return take_name (self, error);

  do
    {
      g_free (self->name);
      self->name = g_strdup_printf ("pmt-pool-%u",
                                    __atomic_add_fetch (&last_pool_serial, 1, __ATOMIC_RELAXED));
    }
  while (!take_name (self, NULL));

  return TRUE;
}

/**
 * pmt_pool_lookup:
 * @name: a pool name
 *
 * Finds a pool by name: PyMultiTasking's `get_pool_by_name`.
 *
 * Returns: (transfer full) (nullable): the pool, or %NULL
 */
PmtPool *
pmt_pool_lookup (const char *name)
{
  PmtPool *pool = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  G_LOCK (registry);
  if (registry != NULL)
    {
      RegistryEntry *entry = g_hash_table_lookup (registry, name);

      if (entry != NULL)
        pool = g_weak_ref_get (&entry->ref);
    }
  G_UNLOCK (registry);

  return pool;
}

static gint
compare_pool_names (gconstpointer a,
                    gconstpointer b)
{
  return g_strcmp0 (((PmtPool *)a)->name, ((PmtPool *)b)->name);
}

/**
 * pmt_pool_list_pools:
 *
 * Lists the registered pools (PyMultiTasking's `get_pools`), by name.
 *
 * Returns: (transfer full) (element-type PmtPool): the pools; free with
 *   `g_list_free_full (pools, g_object_unref)`
 */
GList *
pmt_pool_list_pools (void)
{
  GHashTableIter iter;
  RegistryEntry *entry;
  GList *pools = NULL;

  G_LOCK (registry);
  if (registry != NULL)
    {
      g_hash_table_iter_init (&iter, registry);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&entry))
        {
          PmtPool *pool = g_weak_ref_get (&entry->ref);

          if (pool != NULL)
            pools = g_list_prepend (pools, pool);
        }
    }
  G_UNLOCK (registry);

  return g_list_sort (pools, compare_pool_names);
}

/**
 * pmt_pool_join_all:
 * @timeout_usec: how long to wait in all, in microseconds: negative
 *   waits forever, 0 only checks
 *
 * Joins every registered pool (PyMultiTasking's `join_pools`): see
 * pmt_pool_join().
 *
 * Returns: %TRUE when every pool completed its work and stopped in time
 */
gboolean
pmt_pool_join_all (gint64 timeout_usec)
{
  gint64 deadline = _pmt_deadline_from_timeout (timeout_usec);
  GList *pools = pmt_pool_list_pools ();
  gboolean ok = TRUE;

  for (GList *l = pools; l != NULL; l = l->next)
    ok &= pmt_pool_join (l->data, _pmt_deadline_remaining (deadline));
  g_list_free_full (pools, g_object_unref);

  return ok;
}
