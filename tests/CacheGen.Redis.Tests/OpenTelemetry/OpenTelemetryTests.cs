using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CacheGen.Redis.Tests;

/// <summary>
/// <c>AddCacheGenInstrumentation()</c> with the real OpenTelemetry SDK and its in-memory exporter: what an OTLP or
/// Prometheus exporter would receive.
/// </summary>
public sealed class OpenTelemetryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> tag in point.Tags)
            tags[tag.Key] = tag.Value;
        return tags;
    }

    private static long Sum(List<Metric> exported, string name, Func<Dictionary<string, object?>, bool> where)
    {
        long sum = 0;
        foreach (Metric metric in exported.Where(m => m.Name == name))
        {
            foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
            {
                if (where(Tags(point)))
                    sum += point.GetSumLong();
            }
        }
        return sum;
    }

    [Fact]
    public async Task Metrics_reach_the_exporter_tagged_by_region_and_method_and_fills_are_traced()
    {
        var metrics = new List<Metric>();
        var spans = new List<Activity>();
        using MeterProvider meters = Sdk.CreateMeterProviderBuilder().AddCacheGenInstrumentation().AddInMemoryExporter(metrics).Build();
        using TracerProvider tracer = Sdk.CreateTracerProviderBuilder().AddCacheGenInstrumentation().AddInMemoryExporter(spans).Build();
        await using var instance = CacheInstance.Create(redis.Configuration);
        // The SDK listens to every CacheGen meter in the process, other test classes' too: a region of this test's own.
        string region = "otel" + Guid.NewGuid().ToString("N");
        string[] tags = [region];
        string key = Entry.UniqueKey(region);

        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"), tags: tags);
        await instance.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("v"), tags: tags);
        await instance.Cache.RemoveByTagAsync(region);
        // Generated code names the cached method; the runtime's recording API takes it beside the region.
        using (var described = new CacheMetrics(meterFactory: null))
            described.Miss(region, "PostService.GetAllAsync");
        meters.ForceFlush();
        tracer.ForceFlush();
        // Stopped before the lists are read: other test classes' activities would otherwise still be added meanwhile.
        meters.Dispose();
        tracer.Dispose();

        Assert.Equal(1, Sum(metrics, "cachegen.hits", t => t.GetValueOrDefault("region") as string == region && t.GetValueOrDefault("level") is "l1"));
        Assert.Equal(1, Sum(metrics, "cachegen.misses", t => t.GetValueOrDefault("region") as string == region && !t.ContainsKey("method")));
        Assert.Equal(1, Sum(metrics, "cachegen.misses", t => t.GetValueOrDefault("region") as string == region && t.GetValueOrDefault("method") is "PostService.GetAllAsync"));
        Assert.Equal(1, Sum(metrics, "cachegen.evictions", t => t.GetValueOrDefault("region") as string == region));
        Assert.Contains(metrics, m => m.Name == "cachegen.local.entries");
        Activity fill = Assert.Single(spans, s => s.OperationName == "cachegen.fill" && (string?)s.GetTagItem("cachegen.key") == key);
        Assert.Equal(region, fill.GetTagItem("cachegen.region"));
    }
}
