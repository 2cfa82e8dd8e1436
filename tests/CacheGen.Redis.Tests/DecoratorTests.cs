using CacheGen.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Redis.Tests;

public interface IQuoteNames
{
    string NameOf(string code);
}

/// <summary>A service the app does not own: every kind of member a decorator forwards, and one default member.</summary>
public interface IQuotes : IQuoteNames
{
    Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
    Task SetRateAsync(string from, string to, decimal rate);
    Task<decimal> PublishRateAsync(string from, string to, decimal rate);
    Task ForgetRateAsync(string from, string to);
    T Echo<T>(T value) where T : notnull;
    bool TryGet(string code, out decimal rate);
    void Bump(ref int counter);
    decimal this[string code] { get; set; }
    string Source { get; set; }
    event EventHandler? Changed;
    void RaiseChanged();
    string Describe() => "quotes from " + Source;
}

/// <summary>The inner service: counts rate lookups, remembers whether its container disposed it.</summary>
public sealed class Quotes(string source = "bank") : IQuotes, IDisposable
{
    private readonly Dictionary<string, decimal> _rates = new();
    private int _lookups;

    public int Lookups => Volatile.Read(ref _lookups);
    public bool Disposed { get; private set; }
    public string Source { get; set; } = source;
    public event EventHandler? Changed;

    public Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _lookups);
        return Task.FromResult(_rates.TryGetValue(from + to, out decimal rate) ? rate : 1m);
    }

    public Task SetRateAsync(string from, string to, decimal rate)
    {
        _rates[from + to] = rate;
        return Task.CompletedTask;
    }

    public Task<decimal> PublishRateAsync(string from, string to, decimal rate)
    {
        _rates[from + to] = rate;
        return Task.FromResult(rate);
    }

    public Task ForgetRateAsync(string from, string to)
    {
        _rates.Remove(from + to);
        return Task.CompletedTask;
    }

    public string NameOf(string code) => "name of " + code;
    public T Echo<T>(T value) where T : notnull => value;
    public bool TryGet(string code, out decimal rate) => _rates.TryGetValue(code, out rate);
    public void Bump(ref int counter) => counter++;
    public decimal this[string code] { get => _rates.TryGetValue(code, out decimal r) ? r : 0m; set => _rates[code] = value; }
    public void RaiseChanged() => Changed?.Invoke(this, EventArgs.Empty);
    public void Dispose() => Disposed = true;
}

[CacheDecorator(typeof(IQuotes))]
public sealed partial class CachedQuotes(IQuotes inner, HybridCache cache)
{
    public IQuotes Inner => inner;

    [Cached("quotes", Key = "{from}:{to}", Tags = ["currency:{from}"])]
    public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);

    [InvalidatesCache(Tags = ["currency:{from}"])]
    public partial Task SetRateAsync(string from, string to, decimal rate);

    // Write-through: the inner service's result becomes GetRateAsync's entry.
    [UpdatesCache(nameof(GetRateAsync))]
    public partial Task<decimal> PublishRateAsync(string from, string to, decimal rate);

    // Typed eviction: exactly GetRateAsync's entry for these arguments.
    [InvalidatesCache(Method = nameof(GetRateAsync))]
    public partial Task ForgetRateAsync(string from, string to);
}

/// <summary>
/// Generated decorators registered with AddCacheGenDecorator, on CacheGen.Redis against a real redis-server: members
/// are forwarded, cached members hit (here and on another instance), writes evict, and each registration keeps its kind
/// and lifetime.
/// </summary>
public sealed class DecoratorTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private ServiceProvider Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddCacheGen(o =>
        {
            o.Redis = redis.Configuration;
            o.KeyPrefix = "example";
            o.RedisTimeout = TimeSpan.FromSeconds(5);
            o.RedisStallTimeout = TimeSpan.FromSeconds(5);
        });
        register(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    private static Task SettledAsync(IServiceProvider services) => ((RedisHybridCache)services.GetRequiredService<HybridCache>()).Hooks.WritesLanded();

    private static string Currency() => "C" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Every_member_kind_is_forwarded_to_the_inner_service()
    {
        var quotes = new Quotes();
        await using ServiceProvider services = Build(s => s.AddSingleton<IQuotes>(quotes).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        IQuotes decorated = services.GetRequiredService<IQuotes>();
        Assert.IsType<CachedQuotes>(decorated);

        decorated["EUR"] = 1.25m;
        Assert.Equal(1.25m, quotes["EUR"]);
        Assert.Equal(1.25m, decorated["EUR"]);
        Assert.True(decorated.TryGet("EUR", out decimal rate));
        Assert.Equal(1.25m, rate);
        int counter = 41;
        decorated.Bump(ref counter);
        Assert.Equal(42, counter);
        Assert.Equal("text", decorated.Echo("text"));
        Assert.Equal(7, decorated.Echo(7));
        Assert.Equal("name of EUR", decorated.NameOf("EUR"));
        decorated.Source = "central bank";
        Assert.Equal("central bank", quotes.Source);
        Assert.Equal("central bank", decorated.Source);
        // A default member runs its own body, on the decorator.
        Assert.Equal("quotes from central bank", decorated.Describe());

        int raised = 0;
        EventHandler handler = (sender, _) => { Assert.Same(quotes, sender); raised++; };
        decorated.Changed += handler;
        quotes.RaiseChanged();
        decorated.RaiseChanged();
        decorated.Changed -= handler;
        quotes.RaiseChanged();
        Assert.Equal(2, raised);
    }

    [Fact]
    public async Task A_cached_member_calls_the_inner_service_once_and_another_instance_hits_Redis()
    {
        var quotesA = new Quotes();
        var quotesB = new Quotes();
        await using ServiceProvider a = Build(s => s.AddSingleton<IQuotes>(quotesA).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        await using ServiceProvider b = Build(s => s.AddSingleton<IQuotes>(quotesB).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        string from = Currency();
        await quotesA.SetRateAsync(from, "USD", 1.5m);

        Assert.Equal(1.5m, await a.GetRequiredService<IQuotes>().GetRateAsync(from, "USD"));
        Assert.Equal(1.5m, await a.GetRequiredService<IQuotes>().GetRateAsync(from, "USD"));
        Assert.Equal(1, quotesA.Lookups);

        // A miss answers before its Redis write lands.
        await SettledAsync(a);
        Assert.Equal(1, await Entry.ShapedEntriesAsync(redis.Database, "{quotes}:" + from + ":USD"));
        Assert.Equal(1.5m, await b.GetRequiredService<IQuotes>().GetRateAsync(from, "USD"));
        Assert.Equal(0, quotesB.Lookups);
    }

    [Fact]
    public async Task A_write_through_the_decorator_evicts_on_every_instance()
    {
        var quotesA = new Quotes();
        await using ServiceProvider a = Build(s => s.AddSingleton<IQuotes>(quotesA).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        await using ServiceProvider b = Build(s => s.AddSingleton<IQuotes>(quotesA).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        IQuotes ratesA = a.GetRequiredService<IQuotes>();
        IQuotes ratesB = b.GetRequiredService<IQuotes>();
        string from = Currency();
        Assert.Equal(1m, await ratesA.GetRateAsync(from, "USD"));
        await SettledAsync(a);
        Assert.Equal(1m, await ratesB.GetRateAsync(from, "USD"));
        Assert.Equal(1, quotesA.Lookups);

        await ratesA.SetRateAsync(from, "USD", 2m);

        Assert.Equal(2m, await ratesA.GetRateAsync(from, "USD"));
        Assert.Equal(2, quotesA.Lookups);
        await SettledAsync(a);
        await Eventually.Until(async () => await ratesB.GetRateAsync(from, "USD") == 2m, "B to drop its copy of the old rate");
    }

    [Fact]
    public async Task Write_through_and_typed_eviction_work_through_the_decorator()
    {
        var quotes = new Quotes();
        await using ServiceProvider services = Build(s => s.AddSingleton<IQuotes>(quotes).AddCacheGenDecorator<IQuotes, CachedQuotes>());
        IQuotes rates = services.GetRequiredService<IQuotes>();
        string from = Currency();
        Assert.Equal(1m, await rates.GetRateAsync(from, "USD"));
        Assert.Equal(1m, await rates.GetRateAsync(from, "EUR"));

        Assert.Equal(3m, await rates.PublishRateAsync(from, "USD", 3m));
        Assert.Equal(3m, await rates.GetRateAsync(from, "USD")); // the written entry: no lookup
        Assert.Equal(2, quotes.Lookups);
        await SettledAsync(services);
        Assert.Equal(1, await Entry.ShapedEntriesAsync(redis.Database, "{quotes}:" + from + ":USD"));

        await rates.ForgetRateAsync(from, "USD");
        Assert.Equal(1m, await rates.GetRateAsync(from, "USD")); // evicted: asked again
        Assert.Equal(3, quotes.Lookups);
        Assert.Equal(1m, await rates.GetRateAsync(from, "EUR")); // the other entry stays
        Assert.Equal(3, quotes.Lookups);
    }

    [Theory]
    [InlineData(ServiceLifetime.Singleton)]
    [InlineData(ServiceLifetime.Scoped)]
    [InlineData(ServiceLifetime.Transient)]
    public async Task A_type_registration_keeps_its_lifetime_and_the_container_still_disposes_the_inner_service(ServiceLifetime lifetime)
    {
        await using ServiceProvider services = Build(s =>
        {
            s.Add(new ServiceDescriptor(typeof(IQuotes), typeof(Quotes), lifetime));
            s.AddCacheGenDecorator<IQuotes, CachedQuotes>();
        });

        CachedQuotes first, again, other;
        using (IServiceScope scope = services.CreateScope())
        {
            first = Assert.IsType<CachedQuotes>(scope.ServiceProvider.GetRequiredService<IQuotes>());
            again = Assert.IsType<CachedQuotes>(scope.ServiceProvider.GetRequiredService<IQuotes>());
        }
        using (IServiceScope scope = services.CreateScope())
            other = Assert.IsType<CachedQuotes>(scope.ServiceProvider.GetRequiredService<IQuotes>());

        Assert.IsType<Quotes>(first.Inner);
        Assert.Equal(lifetime != ServiceLifetime.Transient, ReferenceEquals(first, again));
        Assert.Equal(lifetime != ServiceLifetime.Transient, ReferenceEquals(first.Inner, again.Inner));
        Assert.Equal(lifetime == ServiceLifetime.Singleton, ReferenceEquals(first, other));
        Assert.Equal(lifetime == ServiceLifetime.Singleton, ReferenceEquals(first.Inner, other.Inner));
        // The container created the inner service, so it still disposes it: with its scope, or with the container.
        Assert.Equal(lifetime != ServiceLifetime.Singleton, ((Quotes)first.Inner).Disposed);
        await services.DisposeAsync();
        Assert.True(((Quotes)first.Inner).Disposed);
    }

    [Fact]
    public async Task A_factory_registration_is_decorated_and_its_factory_runs_as_often_as_before()
    {
        int made = 0;
        await using ServiceProvider services = Build(s => s.AddTransient<IQuotes>(_ => new Quotes("factory " + Interlocked.Increment(ref made)))
            .AddCacheGenDecorator<IQuotes, CachedQuotes>());

        IQuotes first = Assert.IsType<CachedQuotes>(services.GetRequiredService<IQuotes>());
        IQuotes second = Assert.IsType<CachedQuotes>(services.GetRequiredService<IQuotes>());

        Assert.Equal("factory 1", first.Source);
        Assert.Equal("factory 2", second.Source);
        Assert.Equal(2, made);
    }

    [Fact]
    public async Task Keyed_registrations_are_decorated_by_key_with_their_lifetimes_and_factories()
    {
        object? askedWith = null;
        await using ServiceProvider services = Build(s => s
            .AddKeyedScoped<IQuotes, Quotes>("eur")
            .AddKeyedSingleton<IQuotes>("usd", (_, key) => { askedWith = key; return new Quotes("usd bank"); })
            .AddKeyedSingleton<IQuotes>("gbp", new Quotes("gbp bank"))
            .AddSingleton<IQuotes>(new Quotes("plain"))
            .AddCacheGenDecorator<IQuotes, CachedQuotes>("eur")
            .AddCacheGenDecorator<IQuotes, CachedQuotes>("usd"));

        using IServiceScope one = services.CreateScope();
        using IServiceScope two = services.CreateScope();
        var eur = Assert.IsType<CachedQuotes>(one.ServiceProvider.GetRequiredKeyedService<IQuotes>("eur"));
        Assert.Same(eur, one.ServiceProvider.GetRequiredKeyedService<IQuotes>("eur"));
        Assert.NotSame(eur, two.ServiceProvider.GetRequiredKeyedService<IQuotes>("eur"));
        IQuotes usd = Assert.IsType<CachedQuotes>(services.GetRequiredKeyedService<IQuotes>("usd"));
        Assert.Same(usd, two.ServiceProvider.GetRequiredKeyedService<IQuotes>("usd"));
        Assert.Equal("usd bank", usd.Source);
        Assert.Equal("usd", askedWith); // the factory is asked with its own key
        // Registrations under other keys, and without one, are left alone.
        Assert.IsType<Quotes>(services.GetRequiredKeyedService<IQuotes>("gbp"));
        Assert.IsType<Quotes>(services.GetRequiredService<IQuotes>());
    }

    [Fact]
    public async Task Every_registration_of_the_service_is_decorated_in_its_place()
    {
        await using ServiceProvider services = Build(s => s
            .AddSingleton<IQuotes>(new Quotes("first"))
            .AddSingleton<IQuotes>(new Quotes("second"))
            .AddCacheGenDecorator<IQuotes, CachedQuotes>());

        IQuotes[] all = services.GetServices<IQuotes>().ToArray();
        Assert.Equal(["first", "second"], all.Select(q => ((IQuotes)Assert.IsType<CachedQuotes>(q)).Source));
        Assert.Equal("second", services.GetRequiredService<IQuotes>().Source);
    }

    [Fact]
    public async Task Decorating_twice_nests_the_decorators()
    {
        await using ServiceProvider services = Build(s => s
            .AddScoped<IQuotes, Quotes>()
            .AddCacheGenDecorator<IQuotes, CachedQuotes>()
            .AddCacheGenDecorator<IQuotes, CachedQuotes>());

        using IServiceScope scope = services.CreateScope();
        var outer = Assert.IsType<CachedQuotes>(scope.ServiceProvider.GetRequiredService<IQuotes>());
        var inner = Assert.IsType<CachedQuotes>(outer.Inner);
        Assert.IsType<Quotes>(inner.Inner);
    }

    [Fact]
    public void Decorating_a_service_that_is_not_registered_says_so()
    {
        var services = new ServiceCollection().AddKeyedSingleton<IQuotes, Quotes>("eur");

        var error = Assert.Throws<InvalidOperationException>(() => services.AddCacheGenDecorator<IQuotes, CachedQuotes>());
        Assert.Contains("no service of type 'CacheGen.Redis.Tests.IQuotes' is registered", error.Message);
        var keyed = Assert.Throws<InvalidOperationException>(() => services.AddCacheGenDecorator<IQuotes, CachedQuotes>("usd"));
        Assert.Contains("under the key 'usd'", keyed.Message);
    }
}
