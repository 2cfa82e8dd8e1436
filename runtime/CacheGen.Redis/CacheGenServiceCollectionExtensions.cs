using System.Diagnostics.Metrics;
using CacheGen.Redis;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers CacheGen's <see cref="HybridCache"/>.</summary>
public static class CacheGenServiceCollectionExtensions
{
    /// <summary>
    /// Registers CacheGen's <see cref="HybridCache"/> (a singleton, replacing any registered before): Redis when <see cref="CacheGenOptions.Redis"/> is
    /// set, the in-process cache only otherwise. Options are bound from the <c>CacheGen</c> configuration section when an
    /// <see cref="IConfiguration"/> is registered, then <paramref name="configure"/> runs. Invalid options fail when the
    /// cache is first resolved (and at host start).
    /// </summary>
    public static IServiceCollection AddCacheGen(this IServiceCollection services, Action<CacheGenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        OptionsBuilder<CacheGenOptions> options = services.AddOptions<CacheGenOptions>();
        // Like OptionsBuilder.BindConfiguration, but an application without IConfiguration (a console tool, a test)
        // just gets the delegate's options instead of an exception.
        if (!services.Any(d => d.ServiceType == typeof(ConfigureFromConfiguration)))
        {
            services.AddSingleton<ConfigureFromConfiguration>();
            services.AddSingleton<IConfigureOptions<CacheGenOptions>>(sp => sp.GetRequiredService<ConfigureFromConfiguration>());
        }
        if (configure is not null)
            options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CacheGenOptions>, Validator>());
        options.ValidateOnStart();

        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, CacheGenStartup>());
        services.TryAddSingleton(TimeProvider.System);
        // Replaces any HybridCache registered before (Microsoft's AddHybridCache, say): the call asks for CacheGen's. The
        // serializers registered with it (AddSerializer, AddSerializerFactory) are CacheGen's too (see ServiceSerializers).
        services.RemoveAll<HybridCache>();
        services.AddSingleton<HybridCache>(sp => new RedisHybridCache(
            sp.GetRequiredService<IOptions<CacheGenOptions>>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>(),
            sp));
        return services;
    }

    private sealed class Validator : IValidateOptions<CacheGenOptions>
    {
        public ValidateOptionsResult Validate(string? name, CacheGenOptions options) =>
            options.Validate() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }

    private sealed class ConfigureFromConfiguration(IServiceProvider services) : IConfigureOptions<CacheGenOptions>
    {
        public void Configure(CacheGenOptions options)
        {
            if (services.GetService<IConfiguration>() is not { } configuration)
                return;
            // Bound by the configuration binding generator (no reflection, so trimming/AOT safe) into the settings
            // that can be written as text; SerializerOptions is code-only. Unset keys leave the defaults alone.
            var settings = new CacheGenSettings();
            configuration.GetSection(CacheGenOptions.SectionName).Bind(settings);
            if (settings.Redis is not null) options.Redis = settings.Redis;
            if (settings.KeyPrefix is not null) options.KeyPrefix = settings.KeyPrefix;
            if (settings.KeyVersion is { } keyVersion) options.KeyVersion = keyVersion;
            if (settings.DefaultExpiration is { } defaultExpiration) options.DefaultExpiration = defaultExpiration;
            if (settings.LocalCacheExpiration is { } localCacheExpiration) options.LocalCacheExpiration = localCacheExpiration;
            if (settings.FailSafeThrottle is { } failSafeThrottle) options.FailSafeThrottle = failSafeThrottle;
            if (settings.RedisTimeout is { } redisTimeout) options.RedisTimeout = redisTimeout;
            if (settings.RedisStallTimeout is { } redisStallTimeout) options.RedisStallTimeout = redisStallTimeout;
            if (settings.CircuitBreakerFailures is { } breakerFailures) options.CircuitBreakerFailures = breakerFailures;
            if (settings.CircuitBreakerDuration is { } breakerDuration) options.CircuitBreakerDuration = breakerDuration;
            if (settings.MaximumPendingEvictions is { } pendingEvictions) options.MaximumPendingEvictions = pendingEvictions;
            if (settings.MaximumLocalEntries is { } maximumLocalEntries) options.MaximumLocalEntries = maximumLocalEntries;
            if (settings.MaximumLocalBytes is { } maximumLocalBytes) options.MaximumLocalBytes = maximumLocalBytes;
            if (settings.MaximumPayloadBytes is { } maximumPayloadBytes) options.MaximumPayloadBytes = maximumPayloadBytes;
            if (settings.CompressAboveBytes is { } compressAboveBytes) options.CompressAboveBytes = compressAboveBytes;
            if (settings.Backplane is { } backplane) options.Backplane = backplane;
            if (settings.DistributedStampedeProtection is { } protection) options.DistributedStampedeProtection = protection;
            if (settings.DistributedLockTimeout is { } lockTimeout) options.DistributedLockTimeout = lockTimeout;
        }
    }
}
