using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Hosting;

namespace CacheGen.Redis;

/// <summary>
/// Creates the cache when a host starts rather than on the first request: the start-up log says at once whether the
/// app runs on Redis or in-process only, invalid options stop the host, and the Redis connection starts early.
/// </summary>
internal sealed class CacheGenStartup(HybridCache cache) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(cache); // resolving it was the work
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
