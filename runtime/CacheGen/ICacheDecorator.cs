namespace CacheGen;

/// <summary>
/// A generated caching decorator of <typeparamref name="TService"/>. The generator implements this interface on every
/// <see cref="CacheDecoratorAttribute"/> class, so registration builds the decorator with generated code rather than
/// reflection (Native AOT and trimming safe).
/// </summary>
/// <typeparam name="TService">The decorated interface.</typeparam>
public interface ICacheDecorator<TService>
    where TService : class
{
    /// <summary>The decorator around <paramref name="inner"/>, its other constructor arguments taken from <paramref name="services"/>.</summary>
    static abstract TService Create(TService inner, IServiceProvider services);
}
