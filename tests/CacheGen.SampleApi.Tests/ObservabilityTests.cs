using System.Diagnostics;
using System.Text.Json;
using CacheGen.Testing;

namespace CacheGen.SampleApi.Tests;

/// <summary>The sample's <c>/health</c> while its real redis-server is frozen and thawed, and its Prometheus scrape endpoint.</summary>
public sealed class ObservabilityTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static async Task<JsonElement> Health(SampleApiHost host)
    {
        using HttpResponseMessage response = await host.Client.GetAsync("/health");
        // Degraded is still 200: the app serves, without its cache.
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Health_is_Degraded_while_redis_is_frozen_and_Healthy_after()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 10);
        RedisServer redis = host.Redis!;
        await host.ListAsync();
        Assert.Equal("Healthy", (await Health(host)).GetProperty("status").GetString());

        redis.Freeze();
        try
        {
            JsonElement frozen = await Health(host);
            Assert.Equal("Degraded", frozen.GetProperty("status").GetString());
            Assert.Equal("not answering", frozen.GetProperty("cachegen").GetProperty("data").GetProperty("redis").GetString());
            Assert.Contains("did not answer", frozen.GetProperty("cachegen").GetProperty("description").GetString());
            // Still serving, from SQLite.
            await host.ListAsync();
        }
        finally
        {
            redis.Thaw();
        }

        var clock = Stopwatch.StartNew();
        while ((await Health(host)).GetProperty("status").GetString() != "Healthy")
        {
            Assert.True(clock.Elapsed < HangGuard, "/health stayed Degraded after the thaw");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task With_Telemetry_Prometheus_the_metrics_endpoint_has_the_cache_counters_by_region()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(10, true, "--Telemetry:Prometheus=true");
        await host.ListAsync();
        await host.ListAsync();
        string metrics = await host.Client.GetStringAsync("/metrics");
        Assert.Matches(@"cachegen_hits_total\{[^}]*level=""l1""[^}]*region=""posts""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"cachegen_misses_total\{[^}]*region=""posts""[^}]*\} [1-9]", metrics);
        Assert.Contains("cachegen_local_entries", metrics);
    }

    [Fact]
    public async Task Without_Telemetry_Prometheus_there_is_no_metrics_endpoint()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1, withRedis: false);
        using HttpResponseMessage response = await host.Client.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
