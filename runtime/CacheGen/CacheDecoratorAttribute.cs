namespace CacheGen;

/// <summary>
/// Makes a <c>partial</c> class a caching decorator of <see cref="ServiceInterface"/>: the generator makes the class
/// implement the interface, forwards every member the class does not declare to the constructor parameter of that
/// interface type (the inner service), and gives each <c>[Cached]</c>, <c>[InvalidatesCache]</c> or
/// <c>[UpdatesCache]</c> partial method whose core method is not written the inner service's member as its core.
/// </summary>
/// <example>
/// <code>
/// [CacheDecorator(typeof(IExchangeRates))]
/// public sealed partial class CachedExchangeRates(IExchangeRates inner, HybridCache cache)
/// {
///     [Cached("rates", Key = "{from}:{to}", TtlSeconds = 60)]
///     public partial Task&lt;decimal&gt; GetRateAsync(string from, string to, CancellationToken ct = default);
/// }
/// </code>
/// Registered with <c>services.AddCacheGenDecorator&lt;IExchangeRates, CachedExchangeRates&gt;()</c>.
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CacheDecoratorAttribute : Attribute
{
    /// <summary>Decorates <paramref name="serviceInterface"/>.</summary>
    /// <param name="serviceInterface">The interface the class implements by forwarding to its inner service.</param>
    public CacheDecoratorAttribute(Type serviceInterface) => ServiceInterface = serviceInterface;

    /// <summary>The interface the class implements by forwarding to its inner service.</summary>
    public Type ServiceInterface { get; }
}
