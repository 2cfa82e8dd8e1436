using CacheGen;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers generated caching decorators (<see cref="CacheDecoratorAttribute"/>) around existing services.</summary>
public static class CacheDecoratorServiceCollectionExtensions
{
    /// <summary>
    /// Replaces every registration of <typeparamref name="TService"/> (instance, type or factory) with
    /// <typeparamref name="TDecorator"/> around the service it registered, with that registration's lifetime.
    /// </summary>
    /// <remarks>
    /// Each original registration is kept under a private key, so the container still creates and disposes the inner
    /// service as before. Call it after the registrations it decorates.
    /// </remarks>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is not registered.</exception>
    public static IServiceCollection AddCacheGenDecorator<TService, TDecorator>(this IServiceCollection services)
        where TService : class
        where TDecorator : class, TService, ICacheDecorator<TService>
    {
        ArgumentNullException.ThrowIfNull(services);
        return Decorate<TService, TDecorator>(services, keyed: false, serviceKey: null);
    }

    /// <summary>
    /// Replaces every registration of <typeparamref name="TService"/> under <paramref name="serviceKey"/> with
    /// <typeparamref name="TDecorator"/> around the service it registered, with that registration's lifetime. A
    /// <see langword="null"/> key decorates the registrations without a key.
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is not registered under <paramref name="serviceKey"/>.</exception>
    public static IServiceCollection AddCacheGenDecorator<TService, TDecorator>(this IServiceCollection services, object? serviceKey)
        where TService : class
        where TDecorator : class, TService, ICacheDecorator<TService>
    {
        ArgumentNullException.ThrowIfNull(services);
        return Decorate<TService, TDecorator>(services, keyed: serviceKey is not null, serviceKey);
    }

    private static IServiceCollection Decorate<TService, TDecorator>(IServiceCollection services, bool keyed, object? serviceKey)
        where TService : class
        where TDecorator : class, TService, ICacheDecorator<TService>
    {
        int decorated = 0;
        int count = services.Count; // the inner registrations added below are not visited
        for (int i = 0; i < count; i++)
        {
            ServiceDescriptor original = services[i];
            if (original.ServiceType != typeof(TService) || original.IsKeyedService != keyed || (keyed && !Equals(original.ServiceKey, serviceKey)))
                continue;
            var innerKey = new InnerServiceKey(typeof(TDecorator), original.ServiceKey);
            services.Add(WithKey(original, innerKey));
            services[i] = keyed
                ? new ServiceDescriptor(typeof(TService), original.ServiceKey,
                    (provider, _) => TDecorator.Create(provider.GetRequiredKeyedService<TService>(innerKey), provider), original.Lifetime)
                : new ServiceDescriptor(typeof(TService),
                    provider => TDecorator.Create(provider.GetRequiredKeyedService<TService>(innerKey), provider), original.Lifetime);
            decorated++;
        }
        if (decorated == 0)
        {
            string where = keyed ? $" under the key '{serviceKey}'" : "";
            throw new InvalidOperationException(
                $"AddCacheGenDecorator<{typeof(TService).Name}, {typeof(TDecorator).Name}>: no service of type '{typeof(TService).FullName}' is registered{where}. " +
                $"Register it before decorating it (for example services.AddSingleton<{typeof(TService).Name}, ...>()).");
        }
        return services;
    }

    /// <summary>The same registration (instance, type or factory, same lifetime) under <paramref name="key"/>.</summary>
    private static ServiceDescriptor WithKey(ServiceDescriptor original, InnerServiceKey key)
    {
        if (original.IsKeyedService)
        {
            object? originalKey = original.ServiceKey;
            if (original.KeyedImplementationInstance is { } keyedInstance)
                return new ServiceDescriptor(original.ServiceType, key, keyedInstance);
            if (original.KeyedImplementationFactory is { } keyedFactory)
                // The factory is asked with the key it was registered under, not the private one.
                return new ServiceDescriptor(original.ServiceType, key, (provider, _) => keyedFactory(provider, originalKey), original.Lifetime);
            return new ServiceDescriptor(original.ServiceType, key, original.KeyedImplementationType!, original.Lifetime);
        }
        if (original.ImplementationInstance is { } instance)
            return new ServiceDescriptor(original.ServiceType, key, instance);
        if (original.ImplementationFactory is { } factory)
            return new ServiceDescriptor(original.ServiceType, key, (provider, _) => factory(provider), original.Lifetime);
        return new ServiceDescriptor(original.ServiceType, key, original.ImplementationType!, original.Lifetime);
    }

    /// <summary>
    /// The private key a decorated registration is kept under. Compared by reference, so each is unique: decorating a
    /// service twice with the same class nests the two instead of letting one resolve itself.
    /// </summary>
    private sealed class InnerServiceKey(Type decorator, object? serviceKey)
    {
        public override string ToString() => $"inner of {decorator.Name}" + (serviceKey is null ? "" : $" ({serviceKey})");
    }
}
