using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheGen.Redis.Tests;

/// <summary>
/// <c>AddHealthChecks().AddCacheGen()</c> through the real HealthCheckService, against a real redis-server that is
/// frozen (SIGSTOP) and thawed: Degraded while Redis does not answer, never Unhealthy, Healthy again once it does.
/// </summary>
public sealed class HealthCheckTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    private static ServiceProvider App(string? redis, TimeSpan? breakerDuration = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddCacheGen(o =>
        {
            o.Redis = redis;
            o.KeyPrefix = "example";
            o.RedisTimeout = TimeSpan.FromSeconds(1);
            o.CircuitBreakerFailures = 2;
            o.CircuitBreakerDuration = breakerDuration ?? TimeSpan.FromMilliseconds(300);
        });
        services.AddHealthChecks().AddCacheGen();
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> Check(IServiceProvider app)
    {
        HealthReport report = await app.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(HangGuard);
        return Assert.Single(report.Entries, e => e.Key == "cachegen").Value;
    }

    [Fact]
    public async Task A_frozen_redis_is_Degraded_with_the_reason_and_the_pending_evictions_then_Healthy_once_thawed()
    {
        using RedisServer server = RedisServer.Start();
        await using ServiceProvider app = App(server.Configuration);
        HybridCache cache = app.GetRequiredService<HybridCache>();
        await cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("v"), tags: Entry.Posts);
        // The miss answered before its write landed: Redis is frozen below, with no write of this fill still on its way.
        await ((RedisHybridCache)cache).Hooks.WritesLanded();

        HealthReportEntry healthy = await Check(app);
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal("answering", healthy.Data["redis"]);
        Assert.Equal("closed", healthy.Data["circuit_breaker"]);
        Assert.Equal(1, healthy.Data["local_entries"]);

        server.Freeze();
        try
        {
            // An eviction Redis cannot confirm is remembered: the check counts it.
            await cache.RemoveByTagAsync("posts").AsTask().WaitAsync(HangGuard);
            HealthReportEntry frozen = await Check(app);
            Assert.Equal(HealthStatus.Degraded, frozen.Status);
            Assert.Contains("did not answer", frozen.Description);
            Assert.Equal("not answering", frozen.Data["redis"]);
            Assert.Equal(1, frozen.Data["pending_evictions"]);
        }
        finally
        {
            server.Thaw();
        }

        // The recovery loop replays the eviction and closes the breaker in the background.
        HealthReportEntry after = await Check(app);
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); after.Status != HealthStatus.Healthy; after = await Check(app))
        {
            Assert.True(clock.Elapsed < HangGuard, $"still {after.Status} after the thaw: {after.Description}");
            await Task.Delay(50);
        }
        Assert.Equal(0, after.Data["pending_evictions"]);
        Assert.Equal("closed", after.Data["circuit_breaker"]);
    }

    [Fact]
    public async Task An_open_breaker_is_Degraded_even_when_Redis_answers_a_PING_again()
    {
        using RedisServer server = RedisServer.Start();
        // The breaker stays open for the whole test: its first probe is a minute away.
        await using ServiceProvider app = App(server.Configuration, breakerDuration: TimeSpan.FromMinutes(1));
        var cache = (RedisHybridCache)app.GetRequiredService<HybridCache>();
        server.Freeze();
        try
        {
            for (int i = 0; i < 2; i++)
                await cache.GetOrCreateAsync(Entry.UniqueKey(), _ => ValueTask.FromResult("v"), Entry.NoLocal, Entry.Posts).AsTask().WaitAsync(HangGuard);
        }
        finally
        {
            server.Thaw();
        }
        Assert.Equal(BreakerState.Open, cache.Hooks.RedisBreakerState);

        HealthReportEntry report = await Check(app);
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("circuit breaker is open", report.Description);
        Assert.Equal("answering", report.Data["redis"]);
        Assert.Equal("open", report.Data["circuit_breaker"]);
    }

    [Fact]
    public async Task Without_redis_the_in_process_cache_is_Healthy_and_says_no_redis_is_configured()
    {
        await using ServiceProvider app = App(redis: null);
        HealthReportEntry report = await Check(app);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal("not configured", report.Data["redis"]);
    }
}
