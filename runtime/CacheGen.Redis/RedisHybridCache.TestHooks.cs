using System.Diagnostics.Metrics;

namespace CacheGen.Redis;

internal sealed partial class RedisHybridCache
{
    /// <summary>Every seam tests use, in one place: fault-injection points (null unless a test sets one) and read-only state.</summary>
    internal TestHooks Hooks { get; }

    /// <summary>
    /// Test seams of one cache instance. Applications never set these: they are internal, and the injection points
    /// cost one null check where they are read.
    /// </summary>
    internal sealed class TestHooks(RedisHybridCache cache)
    {
        /// <summary>Called for every backplane message from another instance; true drops it as if pub/sub had lost it.</summary>
        public Func<bool>? DropIncomingBackplaneMessage { get; set; }

        /// <summary>Called after a backplane message from another instance was applied (gets its kind and key or tag).</summary>
        public Action<char, string>? BackplaneMessageApplied { get; set; }

        /// <summary>Awaited after a fill's Redis read returns and before its result is used (gets the cache key).</summary>
        public Func<string, ValueTask>? AfterRedisRead { get; set; }

        /// <summary>Awaited by an eviction after it evicted in-process and before it evicts in Redis (gets the key or tag).</summary>
        public Func<string, ValueTask>? BeforeRedisEviction { get; set; }

        /// <summary>Awaited by SetAsync after it stored in-process and before it writes Redis (gets the cache key).</summary>
        public Func<string, ValueTask>? BeforeRedisSet { get; set; }

        /// <summary>
        /// Called right after an eviction, a set or a write-through took the key's running fill out of the registry, and
        /// before it changes the key's in-process entry (gets the cache key): where a fill that registers next may still
        /// find the entry about to go.
        /// </summary>
        public Action<string>? AfterFillInvalidated { get; set; }

        /// <summary>Called once a fill has finished, stored or not, its waiters released (gets the cache key).</summary>
        public Action<string>? FillFinished { get; set; }

        /// <summary>Called once a background refresh has ended, started or skipped, stored or not (gets the cache key).</summary>
        public Action<string>? RefreshFinished { get; set; }

        /// <summary>How many background refreshes run on this instance now.</summary>
        public int RefreshCount => cache._refreshes.Count;

        /// <summary>The meter this instance reports on.</summary>
        public Meter Meter => cache._metrics.Meter;

        /// <summary>Completes once this instance listens for other instances' evictions.</summary>
        public Task BackplaneReady => cache._backplane?.Ready ?? Task.CompletedTask;

        /// <summary>How many evictions from other instances this one has applied.</summary>
        public int BackplaneMessagesApplied => cache._backplane?.MessagesApplied ?? 0;

        /// <summary>How many times the subscription was confirmed back after a connection loss.</summary>
        public int BackplaneResubscriptions => cache._backplane?.Resubscriptions ?? 0;

        /// <summary>How many fills found another instance's lease and waited for its value.</summary>
        public int DistributedWaits => Volatile.Read(ref cache._distributedWaits);

        /// <summary>The Redis circuit breaker's state, or null without Redis.</summary>
        public BreakerState? RedisBreakerState => cache._store?.BreakerState;

        /// <summary>How many evictions wait to be replayed in Redis.</summary>
        public int PendingEvictionCount => cache._store?.PendingEvictionCount ?? 0;

        /// <summary>
        /// Completes once no answered fill is still writing Redis: a miss answers its callers before its write lands,
        /// so a test that reads Redis or another instance next waits for this first.
        /// </summary>
        public async Task WritesLanded()
        {
            await cache.PendingWritesAsync(TimeSpan.FromSeconds(30));
            if (Volatile.Read(ref cache._pendingWrites) > 0)
                throw new TimeoutException("A fill's Redis write did not land within 30 s.");
        }

        /// <summary>The number of fills in flight.</summary>
        public int FlightCount => cache._flights.Count;

        /// <summary>The number of in-process entries.</summary>
        public int LocalCount => cache._local.Count;

        /// <summary>How many tags the in-process tag table holds.</summary>
        public int LocalTagCount => cache._local.TagCount;

        /// <summary>The entry count the in-process cache keeps for its <see cref="CacheGenOptions.MaximumLocalEntries"/> bound.</summary>
        public int LocalAccountedCount => cache._local.AccountedCount;

        /// <summary>The bytes the in-process entries count against <see cref="CacheGenOptions.MaximumLocalBytes"/>.</summary>
        public long LocalBytes => cache._local.Bytes;
    }
}
