using CacheGen.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds CacheGen's health check.</summary>
public static class CacheGenHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check named <paramref name="name"/> that reports Healthy when Redis answers a PING (or no Redis is
    /// configured) and Degraded when it does not, when the circuit breaker is open or when evictions wait for Redis to
    /// confirm them, with the reason as its description and the state and counts as its data. Never Unhealthy: the app
    /// works without its cache, only slower. Needs <see cref="CacheGenServiceCollectionExtensions.AddCacheGen"/>.
    /// </summary>
    public static IHealthChecksBuilder AddCacheGen(this IHealthChecksBuilder builder, string name = "cachegen", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<CacheGenHealthCheck>(name, HealthStatus.Degraded, tags ?? []);
    }
}
