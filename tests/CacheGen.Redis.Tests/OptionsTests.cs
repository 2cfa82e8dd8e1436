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

    /// <summary>Options that cannot be written as text, each with the reason; everything else must bind.</summary>
    private static readonly Dictionary<string, string> CodeOnlyOptions = new()
    {
        [nameof(CacheGenOptions.ConfigureRedis)] = "a callback on StackExchange.Redis's ConfigurationOptions",
        [nameof(CacheGenOptions.SerializerOptions)] = "a JsonSerializerOptions object, with a resolver that is code",
    };

    /// <summary>
    /// Every public settable option of <see cref="CacheGenOptions"/>, found by reflection so that a new one cannot be
    /// forgotten: set in the <c>CacheGen</c> section to a value that differs from its default, it must land.
    /// </summary>
    [Fact]
    public void Every_plain_option_binds_from_the_CacheGen_section()
    {
        var defaults = new CacheGenOptions();
        var expected = new Dictionary<System.Reflection.PropertyInfo, object>();
        var section = new Dictionary<string, string?>();
        foreach (System.Reflection.PropertyInfo property in typeof(CacheGenOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true })
                continue;
            if (CodeOnlyOptions.ContainsKey(property.Name))
                continue;
            (object value, string text) = OtherThanDefault(property, property.GetValue(defaults));
            expected.Add(property, value);
            section[$"{CacheGenOptions.SectionName}:{property.Name}"] = text;
        }
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(section).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddCacheGen();
        using ServiceProvider provider = services.BuildServiceProvider();

        CacheGenOptions options = provider.GetRequiredService<IOptions<CacheGenOptions>>().Value;

        Assert.True(expected.Count >= 15, $"only {expected.Count} bindable options were found");
        string[] ignored = expected.Where(e => !Equals(e.Key.GetValue(options), e.Value))
            .Select(e => $"{e.Key.Name} (set to {section[$"{CacheGenOptions.SectionName}:{e.Key.Name}"]}, got {e.Key.GetValue(options) ?? "null"})")
            .ToArray();
        Assert.True(ignored.Length == 0, "ignored in configuration: " + string.Join(", ", ignored));
    }

    [Fact]
    public void The_code_only_options_are_exactly_the_ones_configuration_cannot_express()
    {
        foreach (string name in CodeOnlyOptions.Keys)
        {
            System.Reflection.PropertyInfo? property = typeof(CacheGenOptions).GetProperty(name);
            Assert.True(property is { SetMethod.IsPublic: true }, $"{name} is listed as code-only but is not a public option");
            Assert.False(IsPlain(property!.PropertyType), $"{name} is a plain {property.PropertyType.Name}: it should bind, not be code-only");
        }
    }

    private static bool IsPlain(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type == typeof(bool) || type == typeof(TimeSpan) || type.IsEnum
            || type == typeof(int) || type == typeof(long) || type == typeof(double);
    }

    /// <summary>A valid value of the option's type that is not its default, and how configuration writes it.</summary>
    private static (object Value, string Text) OtherThanDefault(System.Reflection.PropertyInfo property, object? current)
    {
        Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        switch (current ?? (type == typeof(string) ? "" : Activator.CreateInstance(type)))
        {
            case string:
                // Redis must parse as a StackExchange.Redis configuration string, and the prefix must be brace-free.
                string text = property.Name == nameof(CacheGenOptions.Redis) ? "127.0.0.1:6390,defaultDatabase=2" : $"bound-{property.Name}";
                return (text, text);
            case bool flag:
                return (!flag, (!flag).ToString(invariant));
            case int number:
                return (number + 7, (number + 7).ToString(invariant));
            case long number:
                return (number + 7, (number + 7).ToString(invariant));
            case double number:
                return (number + 7, (number + 7).ToString("R", invariant));
            case TimeSpan span:
                TimeSpan other = span + TimeSpan.FromSeconds(7);
                return (other, other.ToString("c", invariant));
            case Enum value:
                Array values = Enum.GetValues(type);
                object next = values.Cast<object>().FirstOrDefault(v => !v.Equals(value))
                    ?? throw new InvalidOperationException($"{property.Name}: its enum has one value");
                return (next, next.ToString()!);
            default:
                throw new InvalidOperationException(
                    $"{property.Name} ({property.PropertyType}) is neither plain nor in CodeOnlyOptions: bind it, or list it with a reason");
        }
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
