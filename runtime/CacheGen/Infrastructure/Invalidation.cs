using System.ComponentModel;
using System.Transactions;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Infrastructure;

/// <summary>
/// The evictions generated code runs after an invalidating method's core method returns. Outside a transaction an
/// eviction runs once. Inside one (an ambient <see cref="System.Transactions.TransactionScope"/>, or a transaction a
/// <see cref="TransactionEvictions"/> stands for, such as an EF Core one) it runs at once, and again after the
/// commit: a reader that filled the entry from the old row between the write and the commit would otherwise keep
/// serving that row. A rollback needs no second eviction, since the first one dropped nothing that is still true.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Invalidation
{
    /// <summary>
    /// Whether an eviction now would be repeated after a commit: an ambient <see cref="Transaction"/> is active or a
    /// <see cref="TransactionEvictions"/> is open. A write-through should evict instead of storing while it is true,
    /// because the value it would store is not committed yet.
    /// </summary>
    public static bool InTransaction => AmbientTransaction() is not null || TransactionEvictions.AnyOpen;

    /// <summary>Evicts the entry under <paramref name="key"/>, and again after the commit of an open transaction.</summary>
    public static ValueTask RemoveAsync(HybridCache cache, string key) => Run(new Eviction(cache, key, null, null, null));

    /// <summary>Evicts every entry tagged <paramref name="tag"/>, and again after the commit of an open transaction.</summary>
    public static ValueTask RemoveByTagAsync(HybridCache cache, string tag) => Run(new Eviction(cache, null, tag, null, null));

    /// <summary>Evicts every entry carrying one of <paramref name="tags"/>, and again after the commit of an open transaction.</summary>
    public static ValueTask RemoveByTagAsync(HybridCache cache, IEnumerable<string> tags) => Run(new Eviction(cache, null, null, tags, null));

    /// <summary>Synchronous <see cref="RemoveAsync"/>.</summary>
    public static void Remove(HybridCache cache, string key) => RunSynchronously(new Eviction(cache, key, null, null, null));

    /// <summary>Synchronous <see cref="RemoveByTagAsync(HybridCache, string)"/>.</summary>
    public static void RemoveByTag(HybridCache cache, string tag) => RunSynchronously(new Eviction(cache, null, tag, null, null));

    /// <summary>Synchronous <see cref="RemoveByTagAsync(HybridCache, IEnumerable{string})"/>.</summary>
    public static void RemoveByTags(HybridCache cache, IEnumerable<string> tags) => RunSynchronously(new Eviction(cache, null, null, tags, null));

    private static ValueTask Run(Eviction eviction)
    {
        RepeatAfterCommit(eviction);
        return eviction.RunAsync();
    }

    private static void RunSynchronously(Eviction eviction)
    {
        RepeatAfterCommit(eviction);
        eviction.Run();
    }

    private static void RepeatAfterCommit(Eviction eviction)
    {
        if (AmbientTransaction() is { } ambient)
        {
            // Raised once the outcome is known, after the enlisted connections committed, on the thread that
            // completes the scope: waiting here means the scope's Dispose returns only once the entry is gone.
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == TransactionStatus.Committed)
                    eviction.Run();
            };
        }
        TransactionEvictions.RecordInOpen(eviction);
    }

    private static Transaction? AmbientTransaction() =>
        Transaction.Current is { TransactionInformation.Status: TransactionStatus.Active } ambient ? ambient : null;
}
