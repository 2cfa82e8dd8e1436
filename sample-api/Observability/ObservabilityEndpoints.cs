using System.Text.Json;
using System.Text.Json.Serialization;
using CacheGen.Redis;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CacheGen.SampleApi.Observability;

/// <summary>
/// What the sample shows about its cache: <c>/health</c> (CacheGen's health check, as JSON), the live <c>/cache</c> page
/// and its <c>/cache/data</c>, and with <c>--Telemetry:Prometheus=true</c> the metrics for a Prometheus scrape on
/// <c>/metrics</c> (through OpenTelemetry and <c>AddCacheGenInstrumentation()</c>).
/// </summary>
public static class ObservabilityEndpoints
{
    public static void AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks().AddCacheGen();
        builder.Services.AddSingleton<CacheDashboard>();
        if (builder.Configuration.GetValue<bool>("Telemetry:Prometheus"))
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddCacheGenInstrumentation().AddPrometheusExporter());
    }

    public static void MapObservability(this WebApplication app)
    {
        // Created now, so the page has data from the first request on.
        CacheDashboard dashboard = app.Services.GetRequiredService<CacheDashboard>();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapGet("/cache", () => Results.Text(CachePage.Html, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/cache/data", async (HealthCheckService health, CancellationToken ct) =>
        {
            HealthReport report = await health.CheckHealthAsync(r => r.Name == "cachegen", ct);
            HealthReportEntry entry = report.Entries["cachegen"];
            var cacheHealth = new CacheHealth(entry.Status.ToString(), entry.Description, entry.Data.TryGetValue("redis", out object? redis) ? redis.ToString()! : "unknown");
            return Results.Json(dashboard.Snapshot(cacheHealth), DashboardJsonContext.Default.DashboardSnapshot);
        }).ExcludeFromDescription();
        if (app.Configuration.GetValue<bool>("Telemetry:Prometheus"))
            app.MapPrometheusScrapingEndpoint();
    }

    /// <summary>The status, the reason and the counts, as JSON (the default writer gives the status alone).</summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            foreach ((string name, HealthReportEntry entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description);
                json.WriteStartObject("data");
                foreach ((string key, object value) in entry.Data)
                {
                    switch (value)
                    {
                        case int or long or double:
                            json.WriteNumber(key, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                            break;
                        case bool flag:
                            json.WriteBoolean(key, flag);
                            break;
                        default:
                            json.WriteString(key, value.ToString());
                            break;
                    }
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}

[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
