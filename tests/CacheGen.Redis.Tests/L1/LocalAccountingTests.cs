using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>The in-process cache's entry count and byte total stay exact whatever races on the same keys.</summary>
public sealed class LocalAccountingTests
{
    private static readonly string[] Keys = ["k0", "k1", "k2"];

    /// <summary>Runs <paramref name="work"/> on two dedicated threads at once (thread-pool workers may take turns instead).</summary>
    private static void Race(int round, Action<Random> work)
    {
        using var start = new Barrier(2);
        Thread[] threads = [.. Enumerable.Range(0, 2).Select(worker => new Thread(() =>
        {
            var random = new Random(round * 2 + worker);
            start.SignalAndWait();
            work(random);
        }))];
        foreach (Thread thread in threads)
            thread.Start();
        foreach (Thread thread in threads)
            thread.Join();
    }

    [Fact]
    public async Task Concurrent_sets_removes_and_fills_of_the_same_keys_leave_nothing_counted_once_every_key_is_removed()
    {
        await using var instance = CacheInstance.Create(redis: null);
        var cache = instance.Cache;
        const int operations = 50_000;

        // In-process, each call completes without waiting on anything, so the threads can call synchronously. Values
        // differ in size, so a size counted against the wrong entry shows in the byte total.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < 20 && clock.Elapsed < TimeSpan.FromSeconds(3); round++)
        {
            Race(round, random =>
            {
                for (int i = 0; i < operations; i++)
                {
                    string key = Keys[random.Next(Keys.Length)];
                    string value = new('x', random.Next(1, 64));
                    switch (random.Next(3))
                    {
                        case 0:
                            cache.SetAsync(key, value).AsTask().GetAwaiter().GetResult();
                            break;
                        case 1:
                            cache.RemoveAsync(key).AsTask().GetAwaiter().GetResult();
                            break;
                        default:
                            cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(value)).AsTask().GetAwaiter().GetResult();
                            break;
                    }
                }
            });
            foreach (string key in Keys)
                await cache.RemoveAsync(key);

            Assert.Equal(0, instance.Hooks.FlightCount);
            Assert.Equal(0, instance.Hooks.LocalCount);
            Assert.Equal(0, instance.Hooks.LocalAccountedCount);
            Assert.Equal(0, instance.Hooks.LocalBytes);
        }
    }

    [Fact]
    public void Racing_set_and_remove_on_the_in_process_cache_itself_keep_the_totals_exact()
    {
        var local = new LocalCache(new PayloadSerializer(null), TimeProvider.System, maximumEntries: 1_000, maximumBytes: 1 << 20);
        LocalValidity validity = local.Capture([]);
        long expiresAt = local.ExpiryFor(TimeSpan.FromMinutes(5), local.Now);
        const int operations = 200_000;

        // Rounds of two threads racing on two keys, each round checked once quiet: the window where an update loses to
        // a removal is narrow, so it takes many operations.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < 20 && clock.Elapsed < TimeSpan.FromSeconds(3); round++)
        {
            Race(round, random =>
            {
                for (int i = 0; i < operations; i++)
                {
                    string key = Keys[random.Next(2)];
                    if (random.Next(2) == 0)
                        local.Set(key, new LocalEntry<string>("v", random.Next(1, 100), expiresAt, validity));
                    else
                        local.Remove(key);
                }
            });
            foreach (string key in Keys)
                local.Remove(key);

            Assert.Equal(0, local.Count);
            Assert.Equal(0, local.AccountedCount);
            Assert.Equal(0, local.Bytes);
        }
    }
}
