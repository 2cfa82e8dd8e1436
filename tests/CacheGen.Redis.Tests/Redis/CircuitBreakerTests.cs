using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Redis down, frozen or restarted from its persistence files, against a real redis-server per test: the circuit
/// breaker stops requests from waiting on a dead Redis and logs once per state change, evictions Redis could not
/// confirm are never undone by the old data Redis still holds, and a WRONGTYPE reply is a corrupt entry, not an outage.
/// </summary>
public sealed class CircuitBreakerTests
{

    // Generous on purpose: a hang guard and a "caching came back" deadline, not speed assertions.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    private static CacheInstance Instance(RedisServer server, Action<CacheGenOptions>? configure = null) =>
        CacheInstance.Create(server.Configuration + ",defaultDatabase=1", o =>
        {
            o.RedisTimeout = TimeSpan.FromSeconds(1);
            o.CircuitBreakerFailures = 3;
            o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(500);
            configure?.Invoke(o);
        });

    private static ConnectionMultiplexer Client(RedisServer server) =>
        ConnectionMultiplexer.Connect(server.Configuration + ",abortConnect=false");

    private static async Task<(T Value, TimeSpan Elapsed)> Timed<T>(Func<ValueTask<T>> call)
    {
        var clock = Stopwatch.StartNew();
        T value = await call().AsTask().WaitAsync(HangGuard);
        return (value, clock.Elapsed);
    }

    private static ValueTask<string> ReadRedis(CacheInstance instance, string key, string computed, string[]? tags = null) =>
        instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(computed), Entry.NoLocal, tags ?? Entry.Posts);

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <see cref="Recovery"/>.</summary>
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Recovery, $"{what} did not happen within {Recovery.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    /// <summary>True once a value written through Redis is read back from Redis (the data call is not run again).</summary>
    private static async Task<bool> CachesThroughRedis(CacheInstance instance)
    {
        string key = Entry.UniqueKey();
        int calls = 0;
        ValueTask<string> Read() => instance.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult("v"); }, Entry.NoLocal, Entry.Posts);
        await Read();
        await Read();
        return calls == 1;
    }

    private static void AssertOneBreakerCycle(CacheInstance instance)
    {
        LogLine opened = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CircuitBreakerOpened));
        Assert.Equal(LogLevel.Warning, opened.Level);
        LogLine closed = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CircuitBreakerClosed));
        Assert.Equal(LogLevel.Information, closed.Level);
    }

    [Theory]
    [InlineData("CircuitBreakerFailures")]
    [InlineData("CircuitBreakerDuration")]
    [InlineData("MaximumPendingEvictions")]
    public void Outage_options_out_of_range_are_refused(string option)
    {
        var options = new CacheGenOptions();
        Assert.Null(options.Validate());
        switch (option)
        {
            case "CircuitBreakerFailures":
                options.CircuitBreakerFailures = 0;
                break;
            case "CircuitBreakerDuration":
                options.CircuitBreakerDuration = TimeSpan.Zero;
                break;
            default:
                options.MaximumPendingEvictions = 0;
                break;
        }
        Assert.Contains("CacheGen:" + option, options.Validate());
    }

    [Fact]
    public async Task A_frozen_redis_opens_the_breaker_once_then_calls_stop_waiting_and_it_closes_once_when_thawed()
    {
        using RedisServer server = RedisServer.Start();
        await using CacheInstance instance = Instance(server, o => o.RedisTimeout = TimeSpan.FromSeconds(2));
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        Assert.True(await CachesThroughRedis(instance));

        server.Freeze();
        try
        {
            // Until the breaker opens, each call waits for the Redis timeout at most, then falls through.
            for (int i = 0; i < 3; i++)
            {
                var (value, elapsed) = await Timed(() => ReadRedis(instance, Entry.UniqueKey(), "fallback"));
                Assert.Equal("fallback", value);
                Assert.True(elapsed < TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(3), $"call {i} took {elapsed}");
            }
            Assert.Equal(BreakerState.Open, instance.Hooks.RedisBreakerState);

            // Open: no call waits for Redis any more (the timeout is 2 s; these do no I/O at all), sequential or concurrent.
            for (int i = 0; i < 30; i++)
            {
                var (value, elapsed) = await Timed(() => ReadRedis(instance, Entry.UniqueKey(), "open"));
                Assert.Equal("open", value);
                Assert.True(elapsed < TimeSpan.FromSeconds(1), $"an open breaker still waited {elapsed}");
            }
            var clock = Stopwatch.StartNew();
            string[] concurrent = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => ReadRedis(instance, Entry.UniqueKey(), "concurrent").AsTask()));
            Assert.All(concurrent, v => Assert.Equal("concurrent", v));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"50 concurrent calls took {clock.Elapsed}");
            // Writes and evictions do not wait or throw either.
            await instance.Cache.SetAsync(Entry.UniqueKey(), "set", tags: Entry.Posts).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            await instance.Cache.RemoveAsync(Entry.UniqueKey()).AsTask().WaitAsync(TimeSpan.FromSeconds(1));

            // Stay frozen across a few failed probes: still one "opened" line, and no per-request lines.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.NotEqual(BreakerState.Closed, instance.Hooks.RedisBreakerState);
        }
        finally
        {
            server.Thaw();
        }

        await Eventually(() => Task.FromResult(instance.Hooks.RedisBreakerState == BreakerState.Closed), "closing the breaker");
        await Eventually(() => CachesThroughRedis(instance), "caching through Redis");
        AssertOneBreakerCycle(instance);
        // One Debug line per call that actually failed (the three before the breaker opened), none per short circuit.
        Assert.InRange(instance.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed).Count(), 1, 3);
        Assert.All(instance.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed), l => Assert.Equal(LogLevel.Debug, l.Level));
        Assert.True(metrics.Sum("cachegen.circuit_breaker.short_circuits") >= 80, $"short circuits: {metrics.Sum("cachegen.circuit_breaker.short_circuits")}");
        Assert.Equal(1, metrics.Sum("cachegen.circuit_breaker.transitions", "state=closed"));
        Assert.True(metrics.Sum("cachegen.circuit_breaker.transitions", "state=half_open") >= 1, "the breaker was never probed");
    }

    [Fact]
    public async Task An_eviction_during_an_outage_is_not_undone_by_a_redis_restarted_from_its_persistence_files()
    {
        using RedisServer server = RedisServer.Start("--appendonly", "yes", "--appendfsync", "always");
        using ConnectionMultiplexer client = Client(server);
        IDatabase raw = client.GetDatabase(1);
        // Two failures open it: the two evictions below (reads of what they evicted do not call Redis).
        await using CacheInstance instance = Instance(server, o => o.CircuitBreakerFailures = 2);
        await using CacheInstance other = Instance(server);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string inRegion = Entry.UniqueKey();
        string single = Entry.UniqueKey("users");
        string witness = Entry.UniqueKey("witness");
        Assert.Equal("old", await ReadRedis(instance, inRegion, "old"));
        Assert.Equal("old", await ReadRedis(instance, single, "old", Entry.Users));
        Assert.Equal("old", await ReadRedis(instance, witness, "old", ["witness"]));
        await instance.SettledAsync();
        RedisValue generation = await raw.StringGetAsync("example:1:#gen:{posts}");

        server.Kill();
        var (_, elapsed) = await Timed(async () => { await instance.Cache.RemoveByTagAsync("posts"); return 0; });
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"the eviction took {elapsed}");
        await instance.Cache.RemoveAsync(single).AsTask().WaitAsync(HangGuard);
        Assert.Equal(2, instance.Hooks.PendingEvictionCount);
        Assert.Equal(LogLevel.Warning, Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.EvictionsPending)).Level);
        // Meanwhile this instance runs on the data.
        Assert.Equal("new", await ReadRedis(instance, inRegion, "new"));

        server.Restart();
        // The files brought the old entries back (the witness was never evicted; it is only read by the raw client).
        Assert.True(await raw.KeyExistsAsync(Entry.RedisKey(witness)), "the restarted server did not load its append-only file");

        // From the restart until the evictions are replayed and after: never the old value.
        await Eventually(async () =>
        {
            Assert.Equal("new", await ReadRedis(instance, inRegion, "new"));
            Assert.Equal("new", await ReadRedis(instance, single, "new", Entry.Users));
            // The loop logs the replay after it has published it, a moment after the count reaches 0.
            return instance.Hooks.PendingEvictionCount == 0 && instance.Hooks.RedisBreakerState == BreakerState.Closed
                && instance.Logs.WithEventId(CacheGenLogEvents.EvictionsReplayed).Any();
        }, "replaying the evictions");
        Assert.Equal("new", await ReadRedis(instance, inRegion, "new"));
        Assert.Equal(LogLevel.Information, Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.EvictionsReplayed)).Level);
        Assert.Equal(2, metrics.Sum("cachegen.evictions.replayed"));
        // Replayed in Redis itself: an instance that never saw the evictions does not get the old values either...
        Assert.NotEqual(generation, await raw.StringGetAsync("example:1:#gen:{posts}"));
        // (what it gets may be the value this instance stored after the replay; never the one from before the evictions)
        Assert.NotEqual("old", await ReadRedis(other, inRegion, "fresh"));
        Assert.NotEqual("old", await ReadRedis(other, single, "fresh", Entry.Users));
        // ...and the evictions went out on the backplane once Redis took them.
        await Eventually(() => Task.FromResult(metrics.Sum("cachegen.backplane.sent") >= 2), "publishing the replayed evictions");
        AssertOneBreakerCycle(instance);
        await Eventually(() => CachesThroughRedis(instance), "caching through Redis");
    }

    [Fact]
    public async Task An_eviction_while_redis_is_frozen_is_not_undone_by_what_the_frozen_redis_kept()
    {
        using RedisServer server = RedisServer.Start();
        using ConnectionMultiplexer client = Client(server);
        await using CacheInstance instance = Instance(server, o => o.CircuitBreakerDuration = TimeSpan.FromSeconds(1));
        await using CacheInstance other = Instance(server);
        string inRegion = Entry.UniqueKey();
        string single = Entry.UniqueKey("users");
        Assert.Equal("old", await ReadRedis(instance, inRegion, "old"));
        Assert.Equal("old", await ReadRedis(instance, single, "old", Entry.Users));
        await instance.SettledAsync();

        server.Freeze();
        try
        {
            // One eviction times out (it may still land when Redis thaws); the breaker then opens, so the other is never sent.
            await instance.Cache.RemoveAsync(single).AsTask().WaitAsync(HangGuard);
            for (int i = 0; i < 3 && instance.Hooks.RedisBreakerState == BreakerState.Closed; i++)
                Assert.Equal("during", await ReadRedis(instance, Entry.UniqueKey(), "during"));
            Assert.NotEqual(BreakerState.Closed, instance.Hooks.RedisBreakerState);
            await instance.Cache.RemoveByTagAsync("posts").AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            Assert.Equal(2, instance.Hooks.PendingEvictionCount);
        }
        finally
        {
            server.Thaw();
        }

        // The thawed server still has the region's old generation until the replay: reads here must not use it.
        await Eventually(async () =>
        {
            Assert.Equal("new", await ReadRedis(instance, inRegion, "new"));
            Assert.Equal("new", await ReadRedis(instance, single, "new", Entry.Users));
            return instance.Hooks.PendingEvictionCount == 0 && instance.Hooks.RedisBreakerState == BreakerState.Closed;
        }, "replaying the evictions");
        // (what it gets may be the value this instance stored after the replay; never the one from before the evictions)
        Assert.NotEqual("old", await ReadRedis(other, inRegion, "fresh"));
        Assert.NotEqual("old", await ReadRedis(other, single, "fresh", Entry.Users));
        AssertOneBreakerCycle(instance);
    }

    [Fact]
    public async Task While_an_eviction_is_unconfirmed_redis_is_not_read_for_it_even_though_it_answers_reads()
    {
        // An ACL makes Redis refuse exactly the eviction commands (SET, SETEX or PSETEX for a tombstone, INCR for a region) while reads
        // work, and the breaker never opens: only the pending eviction keeps the old values away.
        using RedisServer server = RedisServer.Start();
        await using CacheInstance instance = Instance(server, o =>
        {
            o.CircuitBreakerFailures = 1_000;
            o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(200);
        });
        await using CacheInstance other = Instance(server);
        string inRegion = Entry.UniqueKey();
        string single = Entry.UniqueKey("users");
        Assert.Equal("old", await ReadRedis(instance, inRegion, "old"));
        Assert.Equal("old", await ReadRedis(instance, single, "old", []));
        await instance.SettledAsync();

        Assert.Equal("OK", server.Cli("ACL", "SETUSER", "default", "-set", "-setex", "-psetex", "-incr"));
        await instance.Cache.RemoveByTagAsync("posts");
        await instance.Cache.RemoveAsync(single);
        Assert.Equal(2, instance.Hooks.PendingEvictionCount);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("new", await ReadRedis(instance, inRegion, "new"));
            Assert.Equal("new", await ReadRedis(instance, single, "new", []));
            // Redis answers and still holds the old values: another instance (which did not evict) reads them.
            Assert.Equal("old", await ReadRedis(other, inRegion, "other"));
            await Task.Delay(50);
        }
        Assert.Equal(BreakerState.Closed, instance.Hooks.RedisBreakerState);
        Assert.Equal(2, instance.Hooks.PendingEvictionCount);

        Assert.Equal("OK", server.Cli("ACL", "SETUSER", "default", "+set", "+setex", "+psetex", "+incr"));
        await Eventually(async () =>
        {
            Assert.NotEqual("old", await ReadRedis(instance, inRegion, "new"));
            Assert.NotEqual("old", await ReadRedis(instance, single, "new", []));
            return instance.Hooks.PendingEvictionCount == 0;
        }, "replaying the evictions");
        Assert.NotEqual("old", await ReadRedis(other, inRegion, "fresh"));
        Assert.NotEqual("old", await ReadRedis(other, single, "fresh", []));
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.EvictionsReplayed));
    }

    [Fact]
    public async Task The_application_starts_while_redis_is_down_and_caching_resumes_by_itself()
    {
        using RedisServer server = RedisServer.Start();
        server.Kill();
        CacheInstance instance;
        try
        {
            instance = Instance(server, o => o.RedisTimeout = TimeSpan.FromMilliseconds(500));
            for (int i = 0; i < 20; i++)
            {
                var (value, elapsed) = await Timed(() => ReadRedis(instance, Entry.UniqueKey(), "fallback"));
                Assert.Equal("fallback", value);
                Assert.True(elapsed < TimeSpan.FromSeconds(3), $"took {elapsed}");
            }
            Assert.NotEqual(BreakerState.Closed, instance.Hooks.RedisBreakerState);
        }
        finally
        {
            server.Restart();
        }
        await using (instance)
        {
            await Eventually(() => CachesThroughRedis(instance), "caching through Redis");
            AssertOneBreakerCycle(instance);
        }
    }

    [Fact]
    public async Task A_key_holding_another_redis_type_is_a_corrupt_entry_deleted_and_refilled_not_an_outage()
    {
        using RedisServer server = RedisServer.Start();
        using ConnectionMultiplexer client = Client(server);
        IDatabase raw = client.GetDatabase(1);
        await using CacheInstance instance = Instance(server);
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string key = Entry.UniqueKey();

        // More times than the breaker's failure count: WRONGTYPE is Redis answering, so the breaker stays closed.
        for (int i = 0; i < 5; i++)
        {
            await raw.HashSetAsync(Entry.RedisKey(key), "field", "value");
            Post post = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(5, "fresh", "c")), Entry.NoLocal, Entry.Posts);
            Assert.Equal("fresh", post.Title);
            // The guarded write is what meets the hash (WRONGTYPE) and deletes it, after the answer.
            await instance.SettledAsync();
            Assert.Equal(RedisType.None, await raw.KeyTypeAsync(Entry.RedisKey(key)));
        }
        Assert.Equal(5, instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry).Count());
        Assert.All(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry), l =>
        {
            Assert.Equal(LogLevel.Warning, l.Level);
            Assert.Contains("WRONGTYPE", l.Message);
        });
        Assert.Equal(5, metrics.Sum("cachegen.corrupt_entries", "problem=wrong_type"));
        Assert.Equal(0, metrics.Sum("cachegen.redis_errors"));
        Assert.Equal(BreakerState.Closed, instance.Hooks.RedisBreakerState);
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.CircuitBreakerOpened));
        Assert.Empty(instance.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed));

        // Repaired: the next fill stores the value and the one after reads it from Redis.
        int calls = 0;
        for (int i = 0; i < 2; i++)
            await instance.Cache.GetOrCreateAsync(key, _ => { calls++; return ValueTask.FromResult(new Post(5, "fresh", "c")); }, Entry.NoLocal, Entry.Posts);
        Assert.Equal(1, calls);
        Assert.Equal(RedisType.String, await raw.KeyTypeAsync(Entry.RedisKey(key)));

        // A region's generation key holding a list: deleted too, which reads as an eviction of the region.
        string cached = Entry.UniqueKey("users");
        Assert.Equal("old", await ReadRedis(instance, cached, "old", Entry.Users));
        await instance.SettledAsync();
        await raw.KeyDeleteAsync("example:1:#gen:{users}");
        await raw.ListLeftPushAsync("example:1:#gen:{users}", "x");
        Assert.Equal("new", await ReadRedis(instance, cached, "new", Entry.Users));
        await instance.SettledAsync();
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.CorruptEntry), l => l.Message.Contains(cached, StringComparison.Ordinal));
        Assert.Equal(RedisType.None, await raw.KeyTypeAsync("example:1:#gen:{users}"));
        // The old entry was written under the lost generation: a miss, then stored again and read back.
        Assert.Equal("newer", await ReadRedis(instance, cached, "newer", Entry.Users));
        Assert.Equal("newer", await ReadRedis(instance, cached, "newest", Entry.Users));
        Assert.Equal(BreakerState.Closed, instance.Hooks.RedisBreakerState);
    }

    [Fact]
    public async Task Past_the_pending_eviction_limit_redis_is_not_read_until_entries_that_missed_one_expired()
    {
        using RedisServer server = RedisServer.Start("--appendonly", "yes", "--appendfsync", "always");
        using ConnectionMultiplexer client = Client(server);
        await using CacheInstance instance = Instance(server, o =>
        {
            o.MaximumPendingEvictions = 2;
            o.DefaultExpiration = TimeSpan.FromSeconds(4);
        });
        using var metrics = new MetricsRecorder(instance.Hooks.Meter);
        string[] keys = [Entry.UniqueKey(), Entry.UniqueKey(), Entry.UniqueKey()];
        foreach (string key in keys)
            Assert.Equal("old", await ReadRedis(instance, key, "old"));
        await instance.SettledAsync();

        server.Kill();
        foreach (string key in keys)
            await instance.Cache.RemoveAsync(key).AsTask().WaitAsync(HangGuard);
        Assert.Equal(2, instance.Hooks.PendingEvictionCount);
        Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.PendingEvictionsOverflowed));
        Assert.Equal(1, metrics.Sum("cachegen.evictions.lost"));
        server.Restart();
        Assert.True(await client.GetDatabase(1).KeyExistsAsync(Entry.RedisKey(keys[2])), "the restarted server did not load its append-only file");

        // The third eviction is forgotten, and the restarted Redis still holds its old entry: it must not be served.
        var clock = Stopwatch.StartNew();
        while (instance.Hooks.PendingEvictionCount > 0 || clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            foreach (string key in keys)
                Assert.Equal("new", await ReadRedis(instance, key, "new"));
            Assert.True(clock.Elapsed < Recovery, "the two remembered evictions were not replayed");
            await Task.Delay(50);
        }
        // Once every entry from before the overflow has expired, Redis is used again.
        await Eventually(() => CachesThroughRedis(instance), "caching through Redis after the lost evictions' entries expired");
    }
}
