using CacheGen.Redis.Tests.Infrastructure;

namespace CacheGen.Redis.Tests;

/// <summary>The in-process cache's entry count and byte total stay exact whatever races on the same keys.</summary>
public sealed class LocalAccountingTests
{
    private static readonly string[] Keys = ["k0", "k1", "k2"];

    [Fact]
    public async Task Concurrent_sets_removes_and_fills_of_the_same_keys_leave_nothing_counted_once_every_key_is_removed()
    {
        await using var instance = CacheInstance.Create(redis: null);
        var cache = instance.Cache;
        const int workers = 8;
        const int operations = 20_000;

        // Values of different sizes, so a size counted against the wrong entry shows in the byte total.
        Task[] running = Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (int i = 0; i < operations; i++)
            {
                string key = Keys[random.Next(Keys.Length)];
                string value = new('x', random.Next(1, 64));
                switch (random.Next(3))
                {
                    case 0:
                        await cache.SetAsync(key, value);
                        break;
                    case 1:
                        await cache.RemoveAsync(key);
                        break;
                    default:
                        await cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(value));
                        break;
                }
            }
        })).ToArray();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromMinutes(2));

        foreach (string key in Keys)
            await cache.RemoveAsync(key);

        Assert.Equal(0, instance.Hooks.FlightCount);
        Assert.Equal(0, instance.Hooks.LocalCount);
        Assert.Equal(0, instance.Hooks.LocalAccountedCount);
        Assert.Equal(0, instance.Hooks.LocalBytes);
    }

    [Fact]
    public void Racing_set_and_remove_on_the_in_process_cache_itself_keep_the_totals_exact()
    {
        var local = new LocalCache(new PayloadSerializer(null), TimeProvider.System, maximumEntries: 1_000, maximumBytes: 1 << 20);
        LocalValidity validity = local.Capture([]);
        long expiresAt = local.ExpiryFor(TimeSpan.FromMinutes(5));
        const int operations = 200_000;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var random = new Random(worker);
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
