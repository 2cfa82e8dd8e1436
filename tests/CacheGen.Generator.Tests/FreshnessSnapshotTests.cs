using CacheGen.Generator.Tests.Infrastructure;

namespace CacheGen.Generator.Tests;

/// <summary>
/// The generated code of the freshness arguments, compared with committed snapshots: the method's descriptor carries
/// them (made once per method), and a write-through's descriptor carries its target's. Each test also requires the
/// generator to be silent and the compilation with the generated code to have no errors and no warnings.
/// </summary>
public sealed class FreshnessSnapshotTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        """;

    private static GeneratorRun RunClean(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + source);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        return run;
    }

    [Fact]
    public void Jitter() => Snapshot.Verify(RunClean("""
        namespace Fresh;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Rates(string Currency, decimal Usd);

        public sealed partial class RateService(HybridCache cache)
        {
            // Entries written together expire spread over the last tenth of their minute.
            [Cached("rates", Key = "rates:{currency}", TtlSeconds = 60, JitterPercent = 10)]
            public partial Task<Rates> GetRatesAsync(string currency, CancellationToken ct = default);
            private Task<Rates> GetRatesCoreAsync(string currency, CancellationToken ct) => Task.FromResult(new Rates(currency, 1m));

            // A write-through stores the entry as GetRatesAsync does, jitter included.
            [UpdatesCache(nameof(GetRatesAsync))]
            public partial Task<Rates> PublishAsync(string currency, CancellationToken ct = default);
            private Task<Rates> PublishCoreAsync(string currency, CancellationToken ct) => Task.FromResult(new Rates(currency, 2m));
        }
        """));

    [Fact]
    public void Refresh_ahead() => Snapshot.Verify(RunClean("""
        namespace Fresh;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Rates(string Currency, decimal Usd);

        public sealed partial class RateService(HybridCache cache)
        {
            // A hit after 48 of the 60 seconds refreshes the entry in the background; with jitter, 80% of its own lifetime.
            [Cached("rates", Key = "rates:{currency}", TtlSeconds = 60, RefreshAheadPercent = 80, JitterPercent = 10)]
            public partial Task<Rates> GetRatesAsync(string currency, CancellationToken ct = default);
            private Task<Rates> GetRatesCoreAsync(string currency, CancellationToken ct) => Task.FromResult(new Rates(currency, 1m));

            // Synchronous, and with its lifetime from the value: refreshed at half of each value's own lifetime.
            [Cached("rates", Key = "quote:{currency}", RefreshAheadPercent = 50, TtlFrom = nameof(LifetimeOf))]
            public partial Rates Quote(string currency);
            private Rates QuoteCore(string currency) => new(currency, 2m);
            private static TimeSpan LifetimeOf(Rates rates) => TimeSpan.FromMinutes(5);
        }
        """));

    [Fact]
    public void TtlFrom() => Snapshot.Verify(RunClean("""
        namespace Tokens;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Token(string Value, DateTimeOffset ExpiresAt);

        public sealed partial class TokenService(HybridCache cache)
        {
            // Each token is kept until 30 s before it expires, and one that expires sooner is not kept at all.
            [Cached("tokens", Key = "token:{audience}", TtlFrom = nameof(LifetimeOf))]
            public partial Task<Token> GetTokenAsync(string audience, CancellationToken ct = default);
            private Task<Token> GetTokenCoreAsync(string audience, CancellationToken ct) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));

            // With Unless and jitter, on a synchronous method.
            [Cached("tokens", Key = "sync:{audience}", TtlFrom = nameof(LifetimeOf), Unless = nameof(IsAnonymous), JitterPercent = 5)]
            public partial Token GetToken(string audience);
            private Token GetTokenCore(string audience) => new(audience, DateTimeOffset.UnixEpoch);

            // A write-through stores its value for the value's own lifetime too.
            [UpdatesCache(nameof(GetTokenAsync))]
            public partial Task<Token> RotateAsync(string audience, CancellationToken ct = default);
            private Task<Token> RotateCoreAsync(string audience, CancellationToken ct) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));

            private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - DateTimeOffset.UtcNow - TimeSpan.FromSeconds(30);
            private static bool IsAnonymous(Token token) => token.Value.Length == 0;
        }
        """));

    [Fact]
    public void Tags_from_the_result() => Snapshot.Verify(RunClean("""
        namespace Shop;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Product(int Id, int CategoryId, decimal Price);

        public sealed partial class ProductService(HybridCache cache)
        {
            // What only the value knows: the category a product is in.
            [Cached("products", Key = "product:{id}", Tags = ["product:{id}", "category:{result.CategoryId}"])]
            public partial Task<Product?> GetProductAsync(int id, CancellationToken ct = default);
            private Task<Product?> GetProductCoreAsync(int id, CancellationToken ct) => Task.FromResult<Product?>(new Product(id, 1, 10m));

            // The whole result of a simple type, on a synchronous method.
            [Cached("products", Key = "sku:{id}", Tags = ["sku:{result}"])]
            public partial string Sku(int id);
            private string SkuCore(int id) => "SKU" + id;

            // A reprice of a category evicts exactly the products whose value is in it (and fills of them in flight).
            [InvalidatesCache(Tags = ["category:{categoryId}"])]
            public partial Task RepriceAsync(int categoryId, decimal factor);
            private Task RepriceCoreAsync(int categoryId, decimal factor) => Task.CompletedTask;

            // A move stores the product with its new category's tag.
            [UpdatesCache(nameof(GetProductAsync))]
            public partial Task<Product?> MoveAsync(int id, int categoryId, CancellationToken ct = default);
            private Task<Product?> MoveCoreAsync(int id, int categoryId, CancellationToken ct) => Task.FromResult<Product?>(new Product(id, categoryId, 10m));
        }
        """));
}
