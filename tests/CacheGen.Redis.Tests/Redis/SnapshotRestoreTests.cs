using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// A Redis that crashes (kill -9) and restarts from an older RDB snapshot has lost the writes made after it: an
/// eviction among them. An instance that saw the eviction never serves the value it evicted again. Each test has its
/// own server, since it is killed; the server's working directory keeps the snapshot (dump.rdb) across the restart.
/// </summary>
public sealed class SnapshotRestoreTests : IDisposable
{
    private readonly RedisServer _server = RedisServer.Start();

    public void Dispose() => _server.Dispose();

    private CacheInstance Instance() => CacheInstance.Create(_server.Configuration + ",defaultDatabase=1", o =>
    {
        o.RedisTimeout = TimeSpan.FromSeconds(1);
        o.CircuitBreakerDuration = TimeSpan.FromMilliseconds(200);
    });

    private static Func<CancellationToken, ValueTask<string>> Returns(string value, Action? called = null) => _ =>
    {
        called?.Invoke();
        return ValueTask.FromResult(value);
    };

    /// <summary>Takes an RDB snapshot of the dataset as it is now.</summary>
    private void Snapshot()
    {
        Assert.Equal("OK", _server.Cli("SAVE"));
        Assert.True(File.Exists(Path.Combine(_server.Directory, "dump.rdb")));
    }

    /// <summary>kill -9, then a restart on the same port that loads the snapshot; returns once every instance caches in Redis again.</summary>
    private async Task CrashAndRestartFromSnapshot(params CacheInstance[] instances)
    {
        _server.Kill();
        _server.Restart();
        foreach (CacheInstance instance in instances)
            await UntilRedisServes(instance);
    }

    /// <summary>The restore brought <paramref name="key"/>'s old value back: without it a test would pass on an empty Redis.</summary>
    private void AssertRedisHolds(string key, string value) =>
        Assert.EndsWith($"\"{value}\"", _server.Cli("-n", "1", "GET", Entry.RedisKey(key)));

    private static async Task UntilRedisServes(CacheInstance instance)
    {
        string probe = "{probe}:" + Guid.NewGuid().ToString("N");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int n = 0; ; n++)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the instance never used Redis again");
            await instance.Cache.SetAsync(probe, "p" + n, Entry.NoLocal);
            if (await instance.Cache.GetOrCreateAsync(probe, Returns("missed"), Entry.NoLocal) == "p" + n)
                return;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_region_eviction_lost_by_a_restore_never_brings_the_old_value_back()
    {
        await using var a = Instance();
        await using var b = Instance();
        const string region = "restored";
        string[] tags = [region];
        string key = Entry.UniqueKey(region);
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, Returns("v1"), Entry.NoLocal, tags));
        await a.SettledAsync();
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync(key, Returns("unused"), Entry.NoLocal, tags));
        Snapshot();

        // a evicts; b reads the newer generation afterwards (and stores v2 under it).
        await a.Cache.RemoveByTagAsync(region);
        Assert.Equal("v2", await b.Cache.GetOrCreateAsync(key, Returns("v2"), Entry.NoLocal, tags));
        await b.SettledAsync();

        await CrashAndRestartFromSnapshot(a, b);
        AssertRedisHolds(key, "v1");

        // Redis holds v1 under the old generation again: neither instance may serve it.
        Assert.Equal("v3", await a.Cache.GetOrCreateAsync(key, Returns("v3"), Entry.NoLocal, tags));
        Assert.NotEqual("v1", await b.Cache.GetOrCreateAsync(key, Returns("v4"), Entry.NoLocal, tags));
        // And caching goes on: the value stored after the repair is served from Redis.
        int calls = 0;
        string cached = await a.Cache.GetOrCreateAsync(key, Returns("v5", () => calls++), Entry.NoLocal, tags);
        Assert.NotEqual("v1", cached);
        Assert.Equal(0, calls);
        Assert.NotEmpty(a.Logs.WithEventId(CacheGenLogEvents.GenerationRolledBack));
    }

    [Fact]
    public async Task An_eviction_of_one_tag_of_an_entry_lost_by_a_restore_is_covered_too()
    {
        // Two tags on one entry: the restore rolls back the generation of the one that was evicted.
        await using var a = Instance();
        string[] tags = ["restored", "other"];
        string key = Entry.UniqueKey("restored");
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, Returns("v1"), Entry.NoLocal, tags));
        await a.SettledAsync();
        Snapshot();
        await a.Cache.RemoveByTagAsync("other");

        await CrashAndRestartFromSnapshot(a);
        AssertRedisHolds(key, "v1");

        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(key, Returns("v2"), Entry.NoLocal, tags));
    }

    [Fact]
    public async Task A_key_eviction_lost_by_a_restore_never_brings_the_old_value_back()
    {
        await using var a = Instance();
        string key = Entry.UniqueKey();
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(key, Returns("v1"), Entry.NoLocal, Entry.Posts));
        await a.SettledAsync();
        Snapshot();

        await a.Cache.RemoveAsync(key);
        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(key, Returns("v2"), Entry.NoLocal, Entry.Posts));
        await a.SettledAsync();

        await CrashAndRestartFromSnapshot(a);

        Assert.NotEqual("v1", await a.Cache.GetOrCreateAsync(key, Returns("v3"), Entry.NoLocal, Entry.Posts));
        Assert.NotEqual("v1", await a.Cache.GetOrCreateAsync(key, Returns("v4"), Entry.NoLocal, Entry.Posts));
        Assert.NotEmpty(a.Logs.WithEventId(CacheGenLogEvents.KeyEvictionsReapplied));
    }

    [Fact]
    public async Task A_clear_lost_by_a_restore_never_brings_the_old_values_back()
    {
        await using var a = Instance();
        string tagged = Entry.UniqueKey(), untagged = "plain:" + Guid.NewGuid().ToString("N");
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(tagged, Returns("v1"), Entry.NoLocal, Entry.Posts));
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync(untagged, Returns("v1"), Entry.NoLocal));
        await a.SettledAsync();
        Snapshot();

        await a.Cache.RemoveByTagAsync("*");

        await CrashAndRestartFromSnapshot(a);
        AssertRedisHolds(tagged, "v1");
        AssertRedisHolds(untagged, "v1");

        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(tagged, Returns("v2"), Entry.NoLocal, Entry.Posts));
        Assert.Equal("v2", await a.Cache.GetOrCreateAsync(untagged, Returns("v2"), Entry.NoLocal));
    }
}
