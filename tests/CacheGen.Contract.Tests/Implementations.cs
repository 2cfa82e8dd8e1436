using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;

namespace CacheGen.Contract.Tests;

/// <summary>
/// One HybridCache implementation under contract. <see cref="Distributed"/> says whether it has a second tier that other
/// instances share (then <see cref="CacheSet.Fresh"/> makes an instance with an empty L1 over the same Redis).
/// <see cref="OnGarnet"/>: that second tier is Microsoft Garnet (Lua on) instead of redis-server.
/// </summary>
public sealed record Implementation(string Name, bool Distributed, bool IsCacheGen, bool OnGarnet = false)
{
    public static readonly Implementation Microsoft = new("Microsoft", Distributed: false, IsCacheGen: false);
    public static readonly Implementation MicrosoftRedis = new("Microsoft+Redis", Distributed: true, IsCacheGen: false);
    public static readonly Implementation CacheGen = new("CacheGen", Distributed: false, IsCacheGen: true);
    public static readonly Implementation CacheGenRedis = new("CacheGen+Redis", Distributed: true, IsCacheGen: true);
    public static readonly Implementation CacheGenGarnet = new("CacheGen+Garnet", Distributed: true, IsCacheGen: true, OnGarnet: true);

    public static readonly IReadOnlyList<Implementation> All = [Microsoft, MicrosoftRedis, CacheGen, CacheGenRedis, CacheGenGarnet];

    public static Implementation Named(string name) => All.Single(i => i.Name == name);

    public override string ToString() => Name;
}

/// <summary>
/// The caches of one test: a first instance, and for distributed implementations further instances that share its Redis
/// (and its key prefix), each with an in-process tier of its own. Every test gets a prefix of its own, so tests never
/// see each other's entries, tags or "*" evictions.
/// </summary>
public sealed class CacheSet : IAsyncDisposable
{
    private readonly Implementation _implementation;
    private readonly string? _redis;
    private readonly string _prefix = "c" + Guid.NewGuid().ToString("N")[..12];
    private readonly TimeProvider? _time;
    private readonly TimeSpan? _defaultExpiration;
    private readonly List<ServiceProvider> _providers = [];

    /// <param name="time">The clock, for in-process implementations (Microsoft's reads it through MemoryCache).</param>
    /// <param name="defaultExpiration">The global default entry lifetime, set the way each implementation takes it.</param>
    public CacheSet(Implementation implementation, ContractRedis redis, TimeProvider? time = null, TimeSpan? defaultExpiration = null)
    {
        _implementation = implementation;
        _redis = !implementation.Distributed ? null : implementation.OnGarnet ? redis.Garnet : redis.Configuration;
        _time = time;
        _defaultExpiration = defaultExpiration;
        First = Fresh();
    }

    public HybridCache First { get; }

    /// <summary>Whether this implementation has a second tier that the instances share.</summary>
    public bool Distributed => _implementation.Distributed;

    /// <summary>The instance that reads a value back: another instance over the same Redis, else the first one.</summary>
    public HybridCache Reader => _implementation.Distributed ? _reader ??= Fresh() : First;
    private HybridCache? _reader;

    /// <summary>A new instance with an empty in-process tier: over the same Redis and prefix when distributed, else a cache of its own.</summary>
    public HybridCache Fresh()
    {
        var services = new ServiceCollection();
        if (_time is not null)
            services.AddSingleton(_time);
        if (_implementation.IsCacheGen)
        {
            services.AddCacheGen(o =>
            {
                o.Redis = _redis;
                o.KeyPrefix = _prefix;
                if (_defaultExpiration is { } expiration)
                    o.DefaultExpiration = expiration;
            });
        }
        else
        {
            if (_time is not null)
                services.AddMemoryCache(o => o.Clock = new SystemClockOver(_time));
            if (_redis is not null)
            {
                services.AddStackExchangeRedisCache(o =>
                {
                    o.Configuration = _redis;
                    o.InstanceName = _prefix + ":";
                });
            }
            services.AddHybridCache(o =>
            {
                if (_defaultExpiration is { } expiration)
                    o.DefaultEntryOptions = new HybridCacheEntryOptions { Expiration = expiration, LocalCacheExpiration = expiration };
            });
        }
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<HybridCache>();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
            await provider.DisposeAsync();
    }

#pragma warning disable CS0618 // MemoryCacheOptions.Clock takes the older clock abstraction.
    private sealed class SystemClockOver(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
#pragma warning restore CS0618
}

/// <summary>
/// One private redis-server for the whole run, and one Garnet server (Lua on) once a Garnet row asks for it (every test
/// uses prefixes of its own).
/// </summary>
public sealed class ContractRedis : IDisposable
{
    private readonly RedisServer _server = RedisServer.Start();
    private readonly Lazy<GarnetServer> _garnet = new(() => GarnetServer.Start(lua: true));

    public string Configuration => _server.Configuration;

    public string Garnet => _garnet.Value.Configuration;

    public void Dispose()
    {
        _server.Dispose();
        if (_garnet.IsValueCreated)
            _garnet.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ContractCollection : ICollectionFixture<ContractRedis>
{
    public const string Name = "HybridCache contract";
}
