using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Redis.Tests;

/// <summary>
/// Redis down, frozen or back again. The server needs a password, so every failure path also shows that the password
/// never reaches a log line. Tests in this class run one after another and leave the server running.
/// </summary>
public sealed class RedisFailureTests(PasswordRedisFixture redis) : IClassFixture<PasswordRedisFixture>
{
    // Only a hang guard: the bound is RedisTimeout (1 s) per Redis call, and a killed server fails faster than that.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(5);

    private CacheInstance Instance(Action<CacheGenOptions>? configure = null) => CacheInstance.Create(redis.Configuration, o =>
    {
        o.RedisTimeout = TimeSpan.FromSeconds(1);
        configure?.Invoke(o);
    });

    private static void AssertNoSecret(CacheInstance instance)
    {
        Assert.NotEmpty(instance.Logs.Lines);
        Assert.All(instance.Logs.Lines, line =>
        {
            Assert.DoesNotContain(PasswordRedisFixture.Secret, line.Message);
            Assert.DoesNotContain(PasswordRedisFixture.Secret, line.Exception ?? "");
        });
    }

    private static async Task<(T Value, TimeSpan Elapsed)> Timed<T>(Func<ValueTask<T>> call)
    {
        var clock = Stopwatch.StartNew();
        T value = await call().AsTask().WaitAsync(HangGuard * 2);
        return (value, clock.Elapsed);
    }

    [Fact]
    public async Task The_connection_is_logged_without_its_password()
    {
        await using var instance = Instance();
        Assert.Equal("v", await instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("v"), tags: Entry.Posts));

        LogLine configured = Assert.Single(instance.Logs.WithEventId(CacheGenLogEvents.RedisConfigured));
        Assert.Contains(redis.Server.Configuration, configured.Message);
        // What the user configured, not the settings CacheGen adds for itself.
        Assert.DoesNotContain("$CONFIG", configured.Message);
        Assert.DoesNotContain("abortConnect", configured.Message);
        AssertNoSecret(instance);
    }

    [Fact]
    public async Task With_redis_killed_calls_fall_through_and_caching_resumes_after_a_restart()
    {
        await using var instance = Instance();
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("cached"), tags: Entry.Posts);
        await instance.SettledAsync();

        redis.Server.Kill();
        try
        {
            var factory = new CountingFactory<string>(n => "fallback " + n);
            var (value, elapsed) = await Timed(() => instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), (Func<CancellationToken, ValueTask<string>>)factory, tags: Entry.Posts));
            Assert.Equal("fallback 1", value);
            Assert.True(elapsed < HangGuard, $"took {elapsed}");

            // Reading Redis only (no in-process copy): a miss, not an exception.
            (value, elapsed) = await Timed(() => instance.Cache.GetOrCreateAsync(key, (Func<CancellationToken, ValueTask<string>>)factory, Entry.NoLocal, Entry.Posts));
            Assert.Equal("fallback 2", value);
            Assert.True(elapsed < HangGuard, $"took {elapsed}");

            // Evictions and writes do not throw either.
            await instance.Cache.RemoveByTagAsync("posts").AsTask().WaitAsync(HangGuard);
            await instance.Cache.RemoveAsync(key).AsTask().WaitAsync(HangGuard);
            await instance.Cache.SetAsync(key, "set").AsTask().WaitAsync(HangGuard);
        }
        finally
        {
            redis.Server.Restart();
        }

        // The client reconnects by itself: poll until a value written through Redis is read back from Redis.
        string resumed = Entry.UniqueKey();
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await instance.Cache.GetOrCreateAsync(resumed, _ => { calls++; return ValueTask.FromResult("resumed"); }, Entry.NoLocal, Entry.Posts);
            int before = calls;
            await instance.Cache.GetOrCreateAsync(resumed, _ => { calls++; return ValueTask.FromResult("resumed"); }, Entry.NoLocal, Entry.Posts);
            if (calls == before)
                break;
            await Task.Delay(100);
        }
        Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(resumed)), "caching did not resume after the restart");
        Assert.NotEmpty(instance.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed));
        Assert.NotEmpty(instance.Logs.WithEventId(CacheGenLogEvents.RedisEvictFailed));
        AssertNoSecret(instance);
    }

    [Fact]
    public async Task With_redis_frozen_calls_fall_through_within_the_redis_timeout()
    {
        await using var instance = Instance(o => o.RedisTimeout = TimeSpan.FromMilliseconds(300));
        await instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("warm"), tags: Entry.Posts);
        await instance.SettledAsync();

        redis.Server.Freeze();
        try
        {
            var (value, elapsed) = await Timed(() => instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("fallback"), tags: Entry.Posts));
            Assert.Equal("fallback", value);
            Assert.True(elapsed < HangGuard, $"took {elapsed}");
            await instance.Cache.RemoveByTagAsync("posts").AsTask().WaitAsync(HangGuard);
        }
        finally
        {
            redis.Server.Thaw();
        }
        Assert.Contains(instance.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed), l => l.Exception!.Contains("Timeout"));
        AssertNoSecret(instance);
    }

    [Fact]
    public async Task The_application_starts_while_redis_is_down_and_connects_when_it_comes_up()
    {
        redis.Server.Kill();
        CacheInstance instance;
        try
        {
            var clock = Stopwatch.StartNew();
            instance = Instance();
            var (value, _) = await Timed(() => instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("fallback"), tags: Entry.Posts));
            Assert.Equal("fallback", value);
            Assert.True(clock.Elapsed < HangGuard, $"took {clock.Elapsed}");
        }
        finally
        {
            redis.Server.Restart();
        }
        await using (instance)
        {
            // The backplane subscription that failed at startup is retried until it is in place.
            await instance.Hooks.BackplaneReady.WaitAsync(TimeSpan.FromSeconds(20));
            string key = Entry.UniqueKey();
            var clock = Stopwatch.StartNew();
            while (!await redis.Database.KeyExistsAsync(Entry.RedisKey(key)) && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("stored"), Entry.NoLocal, Entry.Posts);
                await Task.Delay(100);
            }
            Assert.True(await redis.Database.KeyExistsAsync(Entry.RedisKey(key)));
            AssertNoSecret(instance);
        }
    }

    [Fact]
    public async Task A_wrong_password_is_a_miss_and_is_not_logged_either()
    {
        string wrong = redis.Server.Configuration + ",defaultDatabase=1,password=wrong-secret-456";
        await using var instance = CacheInstance.Create(wrong, o => o.RedisTimeout = TimeSpan.FromMilliseconds(300));

        var (value, elapsed) = await Timed(() => instance.Cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("fallback"),
            new HybridCacheEntryOptions(), Entry.Posts));

        Assert.Equal("fallback", value);
        Assert.True(elapsed < HangGuard, $"took {elapsed}");
        Assert.All(instance.Logs.Lines, line => Assert.DoesNotContain("wrong-secret-456", line.ToString()));
    }

    [Fact]
    public async Task After_a_reconnect_the_in_process_cache_is_flushed()
    {
        // Evictions published while an instance was cut off are lost, so it drops what it holds when it is back.
        await using var instance = Instance(o => o.LocalCacheExpiration = TimeSpan.FromMinutes(1));
        await instance.Hooks.BackplaneReady.WaitAsync(HangGuard);
        string key = Entry.UniqueKey();
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("before"), tags: Entry.Posts);
        await instance.SettledAsync();

        redis.Server.Restart();

        var clock = Stopwatch.StartNew();
        string value;
        do
        {
            value = await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("after"), tags: Entry.Posts);
            await Task.Delay(100);
        }
        while (value == "before" && clock.Elapsed < TimeSpan.FromSeconds(20));
        Assert.Equal("after", value);
        // Flushed when the connection dropped (16), when it came back (15) and once the subscription was proven back (17).
        clock.Restart();
        while (instance.Hooks.BackplaneResubscriptions == 0 && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(50);
        Assert.NotEmpty(instance.Logs.WithEventId(CacheGenLogEvents.LocalCacheFlushedOnDisconnect));
        Assert.NotEmpty(instance.Logs.WithEventId(CacheGenLogEvents.LocalCacheFlushed));
        Assert.NotEmpty(instance.Logs.WithEventId(CacheGenLogEvents.BackplaneResubscribed));
    }
}
