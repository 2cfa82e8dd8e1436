using CacheGen.Redis;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CacheGen.Benchmarks;

/// <summary>
/// The three <see cref="HybridCache"/> implementations, each registered the way its documentation says, in its own
/// service provider. <c>redis</c> null = in-process only. Entries live an hour everywhere so that no benchmark runs
/// past an expiration. Each uses its own key prefix, so they can share one redis-server.
/// </summary>
public sealed class Caches : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private readonly List<ServiceProvider> _providers = [];

    public HybridCache CacheGen(string? redis, Action<CacheGenOptions>? configure = null) => Build(services =>
        services.AddCacheGen(o =>
        {
            o.Redis = redis;
            o.KeyPrefix = "cg";
            o.DefaultExpiration = Lifetime;
            o.LocalCacheExpiration = Lifetime;
            configure?.Invoke(o);
        }));

    public HybridCache Microsoft(string? redis) => Build(services =>
    {
        if (redis is not null)
            services.AddStackExchangeRedisCache(o => { o.Configuration = redis; o.InstanceName = "ms:"; });
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = Lifetime, LocalCacheExpiration = Lifetime });
    });

    public HybridCache Fusion(string? redis) => Build(services =>
    {
        IFusionCacheBuilder builder = services.AddFusionCache()
            .WithDefaultEntryOptions(new FusionCacheEntryOptions { Duration = Lifetime });
        if (redis is not null)
        {
            builder.WithSerializer(new FusionCacheSystemTextJsonSerializer())
                .WithDistributedCache(new RedisCache(new RedisCacheOptions { Configuration = redis, InstanceName = "fc:" }));
        }
        builder.AsHybridCache();
    });

    private HybridCache Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        register(services);
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<HybridCache>();
    }

    public void Dispose()
    {
        foreach (ServiceProvider provider in _providers)
            provider.Dispose();
        _providers.Clear();
    }
}
