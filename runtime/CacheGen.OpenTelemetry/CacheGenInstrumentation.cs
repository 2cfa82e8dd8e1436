using CacheGen.Redis;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace OpenTelemetry;

/// <summary>Subscribes OpenTelemetry to CacheGen's meter and activity source.</summary>
public static class CacheGenInstrumentation
{
    /// <summary>
    /// Collects CacheGen's metrics (meter <see cref="CacheGenTelemetry.MeterName"/>): hits by level, misses, evictions,
    /// stale sets and fill durations tagged by <c>region</c> and cached <c>method</c>, plus the in-process entries and
    /// bytes, pending evictions and the breaker's state.
    /// </summary>
    public static MeterProviderBuilder AddCacheGenInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(CacheGenTelemetry.MeterName);
    }

    /// <summary>Traces CacheGen's fills (<c>cachegen.fill</c>: a miss that ran the data call) from <see cref="CacheGenTelemetry.ActivitySourceName"/>.</summary>
    public static TracerProviderBuilder AddCacheGenInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(CacheGenTelemetry.ActivitySourceName);
    }
}
