using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheGen.Redis.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void The_CacheGen_section_is_bound_and_the_delegate_applies_after_it()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CacheGen:Redis"] = "127.0.0.1:6379,defaultDatabase=1",
            ["CacheGen:KeyPrefix"] = "example",
            ["CacheGen:KeyVersion"] = "3",
            ["CacheGen:DefaultExpiration"] = "00:01:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddCacheGen(o => o.KeyVersion = 4);
        using ServiceProvider provider = services.BuildServiceProvider();

        CacheGenOptions options = provider.GetRequiredService<IOptions<CacheGenOptions>>().Value;

        Assert.Equal("127.0.0.1:6379,defaultDatabase=1", options.Redis);
        Assert.Equal("example", options.KeyPrefix);
        Assert.Equal(4, options.KeyVersion);
        Assert.Equal(TimeSpan.FromMinutes(1), options.DefaultExpiration);
    }

    [Fact]
    public void Without_IConfiguration_the_defaults_and_the_delegate_apply()
    {
        var services = new ServiceCollection();
        services.AddCacheGen();
        using ServiceProvider provider = services.BuildServiceProvider();

        CacheGenOptions options = provider.GetRequiredService<IOptions<CacheGenOptions>>().Value;

        Assert.Null(options.Redis);
        Assert.Equal("", options.KeyPrefix);
        Assert.Equal(1, options.KeyVersion);
        Assert.Equal(TimeSpan.FromSeconds(300), options.DefaultExpiration);
        Assert.Equal(TimeSpan.FromSeconds(5), options.LocalCacheExpiration);
        Assert.Equal(TimeSpan.FromSeconds(1), options.RedisTimeout);
        Assert.IsType<RedisHybridCache>(provider.GetRequiredService<HybridCache>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Theory]
    [InlineData("{posts}")]
    [InlineData("a}b")]
    public void A_key_prefix_with_braces_is_rejected_when_the_cache_is_resolved(string prefix)
    {
        var services = new ServiceCollection();
        services.AddCacheGen(o => o.KeyPrefix = prefix);
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HybridCache>());
        Assert.Contains("KeyPrefix", error.Message);
    }

    [Fact]
    public void An_unparsable_redis_configuration_is_rejected_when_the_cache_is_resolved()
    {
        var services = new ServiceCollection();
        services.AddCacheGen(o => o.Redis = "127.0.0.1:6379,notAnOption=1");
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<HybridCache>());
        Assert.Contains("notAnOption", error.Message);
    }

    [Fact]
    public void Calling_AddCacheGen_twice_registers_one_cache_and_applies_both_delegates()
    {
        var services = new ServiceCollection();
        services.AddCacheGen(o => o.KeyPrefix = "first");
        services.AddCacheGen(o => o.KeyVersion = 2);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<HybridCache>());
        CacheGenOptions options = provider.GetRequiredService<IOptions<CacheGenOptions>>().Value;
        Assert.Equal(("first", 2), (options.KeyPrefix, options.KeyVersion));
    }

    [Fact]
    public void A_registered_time_provider_is_kept()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddCacheGen();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(time, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task A_JsonSerializerContext_can_supply_the_type_information()
    {
        await using var instance = CacheInstance.Create(redis: null, o => o.SerializerOptions = new System.Text.Json.JsonSerializerOptions
        {
            TypeInfoResolver = TestJsonContext.Default,
        });
        await instance.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(new MutablePost { Id = 1, Title = "t" }));

        MutablePost hit = await instance.Cache.GetOrCreateAsync("k", _ => ValueTask.FromResult(new MutablePost()));

        Assert.Equal("t", hit.Title);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(MutablePost))]
internal sealed partial class TestJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
