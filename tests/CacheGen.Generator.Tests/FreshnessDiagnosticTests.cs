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
        Assert.Equal(jitter > 0 ? 3 : 0, run.Sources.Count(s => s.SourceText.ToString().Contains($"JitterPercent = {jitter} }}", StringComparison.Ordinal)));
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

    private static void Check(string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, severity);
}
