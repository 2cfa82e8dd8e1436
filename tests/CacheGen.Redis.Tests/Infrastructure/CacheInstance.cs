using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// One application instance: its own ServiceProvider with AddLogging + AddCacheGen, so two instances share only Redis.
/// </summary>
public sealed class CacheInstance : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private CacheInstance(ServiceProvider provider, LogSink logs)
    {
        _provider = provider;
        Logs = logs;
        Cache = provider.GetRequiredService<HybridCache>();
    }

    public HybridCache Cache { get; }

    public LogSink Logs { get; }

    internal RedisHybridCache.TestHooks Hooks => ((RedisHybridCache)Cache).Hooks;

    public IServiceProvider Services => _provider;

    /// <summary>
    /// Waits until this instance's fills have written Redis. A miss answers before its guarded write lands, so a test
    /// that next looks at Redis, or reads through another instance, settles the instance that filled first.
    /// </summary>
    public Task SettledAsync() => Hooks.WritesLanded();

    /// <summary>
    /// An instance on <paramref name="redis"/> with KeyPrefix "example" (null: in-process only). The Redis timeout is
    /// 5 s rather than 1 s, and so is the stall bound rather than 100 ms, so that a loaded CI machine (a redis-server
    /// not scheduled for a while) does not turn a first connection or a large value into a miss; the failure tests set
    /// their own.
    /// </summary>
    public static CacheInstance Create(string? redis, Action<CacheGenOptions>? configure = null, TimeProvider? time = null,
        Action<IServiceCollection>? register = null)
    {
        var logs = new LogSink();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        if (time is not null)
            services.AddSingleton(time);
        // The app's own registrations (serializers, AddHybridCache()), made before AddCacheGen as an app would.
        register?.Invoke(services);
        services.AddCacheGen(o =>
        {
            o.Redis = redis;
            o.KeyPrefix = "example";
            o.RedisTimeout = TimeSpan.FromSeconds(5);
            o.RedisStallTimeout = TimeSpan.FromSeconds(5);
            configure?.Invoke(o);
        });
        return new CacheInstance(services.BuildServiceProvider(), logs);
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
