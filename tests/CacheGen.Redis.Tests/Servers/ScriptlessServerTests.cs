using System.Net;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>One Microsoft Garnet server with its default, Lua off, for the whole class.</summary>
public sealed class ScriptlessGarnetFixture : IDisposable
{
    public GarnetServer Server { get; } = GarnetServer.Start(lua: false);

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// A server that refuses scripts (Garnet without <c>--lua true</c>): CacheGen says so once (log and health check) and
/// caches in-process only, with evictions still sent to the other instances through pub/sub. Before, the first calls
/// failed on a script and recomputed values they had just cached, and nothing said why.
/// </summary>
public sealed class ScriptlessServerTests(ScriptlessGarnetFixture garnet) : IClassFixture<ScriptlessGarnetFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private CacheInstance Instance() => CacheInstance.Create(garnet.Server.Configuration);

    [Fact]
    public async Task The_first_calls_hit_what_they_just_cached_and_the_refusal_is_said_once()
    {
        await using var a = Instance();
        int calls = 0;
        for (int i = 0; i < 20; i++)
        {
            string key = Entry.UniqueKey(), value = "v" + i;
            Func<CancellationToken, ValueTask<string>> compute = _ =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.FromResult(value);
            };
            Assert.Equal(value, await a.Cache.GetOrCreateAsync(key, compute, tags: Entry.Posts));
            Assert.Equal(value, await a.Cache.GetOrCreateAsync(key, compute, tags: Entry.Posts));
        }
        // Each value computed once: the second read hit it.
        Assert.Equal(20, calls);

        Assert.Single(a.Logs.WithEventId(CacheGenLogEvents.ScriptingRefused));
        // Not mistaken for an outage: no failure logged, the breaker stays closed.
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.RedisWriteFailed));
        Assert.Empty(a.Logs.WithEventId(CacheGenLogEvents.RedisEvictFailed));
        Assert.Equal(BreakerState.Closed, a.Hooks.RedisBreakerState);

        HealthCheckResult health = await ((RedisHybridCache)a.Cache).CheckHealthAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("refused", health.Data["redis_scripting"]);
        Assert.Contains("refuses Lua scripts", health.Description);

        // Nothing of the cache went to Redis: no entry, generation or lease key under the prefix.
        using var client = await ConnectionMultiplexer.ConnectAsync(garnet.Server.Configuration);
        EndPoint endPoint = client.GetEndPoints().Single();
        Assert.Empty(client.GetServer(endPoint).Keys(pattern: "example:*"));
    }

    [Fact]
    public async Task Evictions_still_reach_the_other_instance_through_pub_sub()
    {
        await using var a = Instance();
        await using var b = Instance();
        await a.Hooks.BackplaneReady;
        await b.Hooks.BackplaneReady;
        string key = Entry.UniqueKey(), tagged = Entry.UniqueKey(), any = "plain:" + Guid.NewGuid().ToString("N");
        Assert.Equal("b1", await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("b1")));
        Assert.Equal("b1", await b.Cache.GetOrCreateAsync(tagged, _ => ValueTask.FromResult("b1"), tags: Entry.Posts));
        Assert.Equal("b1", await b.Cache.GetOrCreateAsync(any, _ => ValueTask.FromResult("b1")));

        // Each eviction on a, by key, by tag and of everything, is confirmed at once and reaches b.
        await a.Cache.RemoveAsync(key);
        await UntilMissed(b, key);
        await a.Cache.RemoveByTagAsync("posts");
        await UntilMissed(b, tagged);
        await a.Cache.RemoveByTagAsync("*");
        await UntilMissed(b, any);
        Assert.Equal(0, a.Hooks.PendingEvictionCount);
    }

    /// <summary>Until <paramref name="instance"/> runs the data call for <paramref name="key"/> (its in-process copy went).</summary>
    private static async Task UntilMissed(CacheInstance instance, string key)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("missed"),
                   new Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryOptions { Flags = Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryFlags.DisableLocalCacheWrite }) != "missed")
        {
            Assert.True(clock.Elapsed < HangGuard, $"the eviction of {key} never reached the other instance");
            await Task.Delay(20);
        }
    }
}
