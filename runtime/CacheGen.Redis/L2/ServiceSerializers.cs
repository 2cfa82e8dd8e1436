using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Redis;

/// <summary>
/// The serializers an app registered for <see cref="HybridCache"/> (<c>AddHybridCache().AddSerializer&lt;T, S&gt;()</c>,
/// <c>AddSerializerFactory&lt;F&gt;()</c>, or the services directly), chosen per type exactly as Microsoft's
/// HybridCache chooses: the <see cref="IHybridCacheSerializer{T}"/> service for the type, else the first factory that
/// takes the type, the last registered first; else none, and CacheGen writes System.Text.Json itself. The JSON
/// serializers <c>AddHybridCache()</c> registers on its own stand for that same default, so they are passed over: an
/// app that calls <c>AddHybridCache()</c> besides <c>AddCacheGen()</c> keeps CacheGen's JSON (and <see cref="JsonPayload"/>).
/// </summary>
internal sealed class ServiceSerializers
{
    private const string MicrosoftHybridAssembly = "Microsoft.Extensions.Caching.Hybrid";

    private readonly IServiceProvider? _services;
    private readonly IHybridCacheSerializerFactory[] _factories;
    // Per type: the chosen IHybridCacheSerializer<T>, or this instance itself for "none" (a dictionary cannot hold null).
    private readonly ConcurrentDictionary<Type, object> _chosen = new();

    public ServiceSerializers(IServiceProvider? services)
    {
        _services = services;
        IHybridCacheSerializerFactory[] factories = services?.GetServices<IHybridCacheSerializerFactory>().ToArray() ?? [];
        Array.Reverse(factories);
        _factories = factories;
    }

    /// <summary>The app's serializer for <typeparamref name="T"/>, or null when CacheGen's JSON writes it.</summary>
    public IHybridCacheSerializer<T>? For<T>()
    {
        if (_chosen.TryGetValue(typeof(T), out object? chosen))
            return chosen as IHybridCacheSerializer<T>;
        return _chosen.GetOrAdd(typeof(T), Choose<T>() ?? (object)this) as IHybridCacheSerializer<T>;
    }

    private IHybridCacheSerializer<T>? Choose<T>()
    {
        // CacheGen's own JSON type: its bytes are the JSON, whatever serializers the app has.
        if (_services is null || typeof(T) == typeof(JsonPayload))
            return null;
        IHybridCacheSerializer<T>? serializer = _services.GetService<IHybridCacheSerializer<T>>();
        if (serializer is null)
        {
            foreach (IHybridCacheSerializerFactory factory in _factories)
            {
                if (factory.TryCreateSerializer(out serializer))
                    break;
            }
        }
        return serializer is null || IsMicrosoftDefault(serializer.GetType()) ? null : serializer;
    }

    private static bool IsMicrosoftDefault(Type serializerType) =>
        serializerType.Assembly.GetName().Name == MicrosoftHybridAssembly;
}
