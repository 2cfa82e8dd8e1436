namespace CacheGen.Redis;

/// <summary>
/// The names CacheGen reports under, for OpenTelemetry (<c>AddMeter</c>, <c>AddSource</c>, or CacheGen.OpenTelemetry's
/// <c>AddCacheGenInstrumentation()</c>), <c>dotnet-counters</c> or a <see cref="System.Diagnostics.Metrics.MeterListener"/>.
/// </summary>
public static class CacheGenTelemetry
{
    /// <summary>The meter of every CacheGen instrument (<c>cachegen.hits</c>, <c>cachegen.misses</c>, ...).</summary>
    public const string MeterName = "CacheGen";

    /// <summary>The activity source that traces fills (<c>cachegen.fill</c>: a miss that ran the data call).</summary>
    public const string ActivitySourceName = "CacheGen";
}
