using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Freshness (JitterPercent, TtlFrom): CG0050-CG0052 fire at the named argument with a message saying what to change, and the
/// corrected code is silent and compiles cleanly.
/// </summary>
public sealed class FreshnessDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Rates(string Currency, decimal Usd);

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Token(string Value, DateTimeOffset ExpiresAt);

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Product(int Id, int CategoryId, Shelf? Shelf);

        public sealed class Shelf { public int Row { get; init; } }

        """;

    // ---- CG0050: a percentage out of range ----------------------------------------------------------------------------

    [Theory]
    [InlineData(-1)]
    [InlineData(100)]
    [InlineData(250)]
    public void CG0050_JitterPercent_is_0_to_99(int jitter) => Check("CG0050",
        $$"""
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, [|JitterPercent = {{jitter}}|])]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        """
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, JitterPercent = 10)]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        ["'GetRatesAsync'", $"JitterPercent = {jitter}", "0 (off) to 99"]);

    [Theory]
    [InlineData(-5)]
    [InlineData(100)]
    public void CG0050_RefreshAheadPercent_is_0_to_99(int percent) => Check("CG0050",
        $$"""
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, [|RefreshAheadPercent = {{percent}}|])]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        """
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, RefreshAheadPercent = 80)]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        ["'GetRatesAsync'", $"RefreshAheadPercent = {percent}", "0 (off) to 99"]);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(99)]
    public void RefreshAheadPercent_0_to_99_is_silent_with_jitter_TtlFrom_and_every_return_shape(int percent)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class RateService(HybridCache cache)
            {
                [Cached("rates", TtlSeconds = 60, RefreshAheadPercent = {{percent}}, JitterPercent = 10)]
                public partial Task<Rates> GetRatesAsync(string currency);
                private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));

                [Cached("tokens", TtlFrom = nameof(LifetimeOf), RefreshAheadPercent = {{percent}})]
                public partial Token GetToken(string audience);
                private Token GetTokenCore(string audience) => new(audience, DateTimeOffset.UtcNow.AddMinutes(5));
                private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - DateTimeOffset.UtcNow;

                [Cached("counts", RefreshAheadPercent = {{percent}})]
                public partial ValueTask<long> Total(string region);
                private ValueTask<long> TotalCore(string region) => new(region.Length);
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(99)]
    public void JitterPercent_0_to_99_is_silent_on_every_return_shape(int jitter)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class RateService(HybridCache cache)
            {
                [Cached("rates", JitterPercent = {{jitter}})]
                public partial Task<Rates> GetRatesAsync(string currency);
                private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));

                [Cached("counts", TtlSeconds = 5, JitterPercent = {{jitter}})]
                public partial int Count(string region);
                private int CountCore(string region) => region.Length;

                [Cached("counts", JitterPercent = {{jitter}})]
                public partial ValueTask<long> Total(string region);
                private ValueTask<long> TotalCore(string region) => new(region.Length);
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Equal(3, run.Sources.Length);
        // The initializer goes on with the value type's shape: the number must end where the setting does.
        Assert.Equal(jitter > 0 ? 3 : 0, run.Sources.Count(s => System.Text.RegularExpressions.Regex.IsMatch(s.SourceText.ToString(), $@"JitterPercent = {jitter}\b")));
    }

    // ---- CG0051: TtlFrom with TtlSeconds -----------------------------------------------------------------------------

    [Fact]
    public void CG0051_TtlFrom_and_TtlSeconds_are_not_both_set() => Check("CG0051",
        """
        public partial class TokenService(HybridCache cache)
        {
            [Cached("tokens", TtlSeconds = 300, [|TtlFrom = nameof(LifetimeOf)|])]
            public partial Task<Token> GetTokenAsync(string audience);
            private Task<Token> GetTokenCoreAsync(string audience) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));
            private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - DateTimeOffset.UtcNow;
        }
        """,
        """
        public partial class TokenService(HybridCache cache)
        {
            [Cached("tokens", TtlFrom = nameof(LifetimeOf))]
            public partial Task<Token> GetTokenAsync(string audience);
            private Task<Token> GetTokenCoreAsync(string audience) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));
            private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - DateTimeOffset.UtcNow;
        }
        """,
        ["'GetTokenAsync'", "TtlFrom = \"LifetimeOf\"", "TtlSeconds = 300", "remove TtlSeconds"]);

    // ---- CG0052: TtlFrom names no usable lifetime function --------------------------------------------------------------

    [Theory]
    [InlineData("private static TimeSpan Lifetime(Token token) => TimeSpan.Zero;", "names no method of the type")]
    [InlineData("private TimeSpan LifetimeOf(Token token) => TimeSpan.Zero;", "'LifetimeOf' is not static")]
    [InlineData("private static int LifetimeOf(Token token) => 0;", "'LifetimeOf' returns 'int'")]
    [InlineData("private static DateTimeOffset LifetimeOf(Token token) => token.ExpiresAt;", "'LifetimeOf' returns 'DateTimeOffset'")]
    [InlineData("private static TimeSpan LifetimeOf(string token) => TimeSpan.Zero;", "'LifetimeOf' takes (string)")]
    [InlineData("private static TimeSpan LifetimeOf(Token token, int slack) => TimeSpan.Zero;", "'LifetimeOf' takes (Token, int)")]
    [InlineData("private static TimeSpan LifetimeOf<T>(T token) => TimeSpan.Zero;", "'LifetimeOf' is generic")]
    public void CG0052_TtlFrom_must_name_a_static_TimeSpan_method_taking_the_cached_value(string function, string why) => Check("CG0052",
        $$"""
        public partial class TokenService(HybridCache cache)
        {
            [Cached("tokens", [|TtlFrom = "LifetimeOf"|])]
            public partial Task<Token> GetTokenAsync(string audience);
            private Task<Token> GetTokenCoreAsync(string audience) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));
            {{function}}
        }
        """,
        """
        public partial class TokenService(HybridCache cache)
        {
            [Cached("tokens", TtlFrom = "LifetimeOf")]
            public partial Task<Token> GetTokenAsync(string audience);
            private Task<Token> GetTokenCoreAsync(string audience) => Task.FromResult(new Token(audience, DateTimeOffset.UnixEpoch));
            private static TimeSpan LifetimeOf(Token token) => token.ExpiresAt - DateTimeOffset.UtcNow;
        }
        """,
        ["TtlFrom = \"LifetimeOf\"", "'GetTokenAsync'", "'TokenService'", "'Token'", why]);

    [Theory]
    [InlineData("ValueTask<int>", "new(id)")]
    [InlineData("int", "id")]
    public void CG0052_the_cached_value_of_a_value_task_or_sync_method_is_its_result(string returnType, string body) => Check("CG0052",
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("counts", [|TtlFrom = nameof(LifetimeOf)|])]
            public partial {{returnType}} Count(int id);
            private {{returnType}} CountCore(int id) => {{body}};
            private static TimeSpan LifetimeOf(long count) => TimeSpan.FromSeconds(count);
        }
        """,
        $$"""
        public partial class Service(HybridCache cache)
        {
            [Cached("counts", TtlFrom = nameof(LifetimeOf))]
            public partial {{returnType}} Count(int id);
            private {{returnType}} CountCore(int id) => {{body}};
            private static TimeSpan LifetimeOf(int count) => TimeSpan.FromSeconds(count);
        }
        """,
        ["TtlFrom = \"LifetimeOf\"", "'Count'", "'int'", "'LifetimeOf' takes (long)"]);

    [Fact]
    public void TtlFrom_works_with_generic_types_public_functions_jitter_and_Unless()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class Shelf<TItem>(HybridCache cache) where TItem : class
            {
                [Cached("shelf", TtlFrom = nameof(LifetimeOf), JitterPercent = 10, Unless = nameof(IsEmpty))]
                public partial Task<TItem?> TakeAsync(int id);
                private Task<TItem?> TakeCoreAsync(int id) => Task.FromResult<TItem?>(null);
                public static TimeSpan LifetimeOf(TItem? item) => item is null ? TimeSpan.Zero : TimeSpan.FromMinutes(1);
                private static bool IsEmpty(TItem? item) => item is string { Length: 0 };
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Single(run.Sources);
    }

    // ---- CG0053: a {result} placeholder misused -----------------------------------------------------------------------

    [Fact]
    public void CG0053_result_is_not_in_the_key() => Check("CG0053",
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", [|Key = "product:{result.Id}"|], Tags = ["category:{result.CategoryId}"])]
            public partial Task<Product?> GetAsync(int id);
            private Task<Product?> GetCoreAsync(int id) => Task.FromResult<Product?>(null);
        }
        """,
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", Key = "product:{id}", Tags = ["category:{result.CategoryId}"])]
            public partial Task<Product?> GetAsync(int id);
            private Task<Product?> GetCoreAsync(int id) => Task.FromResult<Product?>(null);
        }
        """,
        ["'{result.Id}'", "'GetAsync'", "in Key"]);

    [Fact]
    public void CG0053_a_parameter_named_result_is_not_chosen_silently() => Check("CG0053",
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", Tags = [[|"category:{result.CategoryId}"|]])]
            public partial Task<Product?> GetAsync(Product result);
            private Task<Product?> GetCoreAsync(Product result) => Task.FromResult<Product?>(result);
        }
        """,
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", Tags = ["category:{result.CategoryId}"])]
            public partial Task<Product?> GetAsync(Product probe);
            private Task<Product?> GetCoreAsync(Product probe) => Task.FromResult<Product?>(probe);
        }
        """,
        ["'{result.CategoryId}'", "'GetAsync'", "parameter named 'result'"]);

    [Fact]
    public void CG0053_a_tag_from_the_result_names_nothing_else() => Check("CG0053",
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", Tags = [[|"shelf:{result.CategoryId}:{storeId}"|]])]
            public partial Task<Product?> GetAsync(int id, int storeId);
            private Task<Product?> GetCoreAsync(int id, int storeId) => Task.FromResult<Product?>(null);
        }
        """,
        """
        public partial class ProductService(HybridCache cache)
        {
            [Cached("products", Tags = ["category:{result.CategoryId}", "store:{storeId}"])]
            public partial Task<Product?> GetAsync(int id, int storeId);
            private Task<Product?> GetCoreAsync(int id, int storeId) => Task.FromResult<Product?>(null);
        }
        """,
        ["'shelf:{result.CategoryId}:{storeId}'", "mixes the result with parameters"]);

    [Fact]
    public void A_member_of_the_result_that_does_not_exist_is_CG0007_and_one_without_text_CG0012()
    {
        GeneratorRun missing = GeneratorHarness.Run(Prelude + """
            public partial class ProductService(HybridCache cache)
            {
                [Cached("products", Tags = ["category:{result.Category}"])]
                public partial Task<Product?> GetAsync(int id);
                private Task<Product?> GetCoreAsync(int id) => Task.FromResult<Product?>(null);
            }
            """);
        Diagnostic unknown = Assert.Single(missing.GeneratorDiagnostics);
        Assert.Equal("CG0007", unknown.Id);
        Assert.Contains("'{result.Category}'", unknown.GetMessage());
        Assert.Contains("field 'Category' of 'Product?' (the cached value)", unknown.GetMessage());

        GeneratorRun shelf = GeneratorHarness.Run(Prelude + """
            public partial class ProductService(HybridCache cache)
            {
                [Cached("products", Tags = ["shelf:{result.Shelf}"])]
                public partial Task<Product?> GetAsync(int id);
                private Task<Product?> GetCoreAsync(int id) => Task.FromResult<Product?>(null);
            }
            """);
        Assert.Equal("CG0012", Assert.Single(shelf.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void An_eviction_template_matches_a_tag_from_the_result_and_evicts_its_fence()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            public partial class ProductService(HybridCache cache)
            {
                [Cached("products", Key = "product:{id}", Tags = ["category:{result.CategoryId}", "row:{result.Shelf.Row}"])]
                public partial Task<Product?> GetAsync(int id);
                private Task<Product?> GetCoreAsync(int id) => Task.FromResult<Product?>(null);

                [InvalidatesCache(Tags = ["category:{categoryId}", "row:{row}"])]
                public partial Task RepriceAsync(int categoryId, int? row);
                private Task RepriceCoreAsync(int categoryId, int? row) => Task.CompletedTask;
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        string eviction = run.Sources.Single(s => s.HintName.Contains("RepriceAsync", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("\"{products}:#value-tag:category:~int~\"", eviction);
        Assert.Contains("\"{products}:#value-tag:row:~int~\"", eviction);
        string cached = run.Sources.Single(s => s.HintName.Contains("GetAsync", StringComparison.Ordinal)).SourceText.ToString();
        Assert.Contains("ValueTagFences = new string[] { \"{products}:#value-tag:category:~int~\", \"{products}:#value-tag:row:~int~\" }", cached);
    }

    private static void Check(string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, severity);
}
