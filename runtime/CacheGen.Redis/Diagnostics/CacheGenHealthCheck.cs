using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheGen.Redis;

/// <summary>
/// Healthy when Redis answers (or none is configured); Degraded, never Unhealthy, when Redis does not answer, the
/// circuit breaker is open or evictions wait for Redis: the app keeps working from its own code. The result's data
/// has the state and the counts.
/// </summary>
internal sealed class CacheGenHealthCheck(HybridCache cache) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        cache is RedisHybridCache cacheGen
            ? cacheGen.CheckHealthAsync(cancellationToken)
            : Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus,
                $"The registered HybridCache is {cache.GetType().FullName}, not CacheGen's: call AddCacheGen()."));
}
