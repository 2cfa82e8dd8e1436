using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CacheGen.Generator.Tests;

/// <summary>CG0030: a [Cached] method that returns EF Core entities (tracked on a miss, detached on a hit).</summary>
public sealed class EntityTypeDiagnosticTests
{
    // EF Core's two types as the analyzer sees them: by metadata name (the real build is in DotnetBuildTests).
    private const string EntityFrameworkCore = """
        namespace Microsoft.EntityFrameworkCore
        {
            public class DbContext { }
            public class DbSet<TEntity> where TEntity : class { }
        }
        """;

    private const string Shop = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.EntityFrameworkCore;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        public sealed class Book { public int Id { get; set; } public string Title { get; set; } = ""; }
        [System.ComponentModel.ImmutableObject(true)] public sealed record BookDto(int Id, string Title);
        public class ShopContext : DbContext { public DbSet<Book> Books { get; set; } = null!; }
        public sealed class BookstoreContext : ShopContext { }

        """;

    [Theory]
    [InlineData("Task<Book?>")]
    [InlineData("ValueTask<Book>")]
    [InlineData("Book")]
    [InlineData("Task<List<Book>>")]
    [InlineData("Task<IReadOnlyList<Book>>")]
    [InlineData("Task<Book[]>")]
    public void CG0030_a_cached_method_returning_EF_Core_entities_is_a_warning_at_its_return_type(string returnType)
    {
        (string source, TextSpan span) = Marked(Shop + $$"""
            public partial class BookService(HybridCache cache)
            {
                [Cached("books")]
                public partial [|{{returnType}}|] GetAsync(int id);
                private {{returnType}} GetCoreAsync(int id) => default!;
            }
            """);

        GeneratorRun run = GeneratorHarness.Run(source, EntityFrameworkCore);

        Diagnostic warning = Assert.Single(run.AnalyzerDiagnostics, d => d.Id == "CG0030");
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(span, warning.Location.SourceSpan);
        Assert.StartsWith("'GetAsync' caches 'Book', an EF Core entity type ('ShopContext' has a DbSet<Book>)", warning.GetMessage());
        Assert.Contains("DTO", warning.GetMessage());
    }

    [Theory]
    [InlineData("Task<BookDto?>")]
    [InlineData("Task<IReadOnlyList<BookDto>>")]
    [InlineData("Task<int>")]
    [InlineData("Task<Dictionary<int, string>>")]
    public void CG0030_is_silent_for_DTOs_and_values(string returnType)
    {
        GeneratorRun run = GeneratorHarness.Run(Shop + $$"""
            public partial class BookService(HybridCache cache)
            {
                [Cached("books")]
                public partial {{returnType}} GetAsync(int id);
                private {{returnType}} GetCoreAsync(int id) => default!;
            }
            """, EntityFrameworkCore);

        Assert.DoesNotContain(run.AnalyzerDiagnostics, d => d.Id == "CG0030");
    }

    [Fact]
    public void CG0030_is_silent_for_an_invalidating_method_that_returns_an_entity()
    {
        GeneratorRun run = GeneratorHarness.Run(Shop + """
            public partial class BookService(HybridCache cache)
            {
                [Cached("books")]
                public partial Task<BookDto?> GetAsync(int id);
                private Task<BookDto?> GetCoreAsync(int id) => default!;

                [InvalidatesCache("books")]
                public partial Task<Book> SaveAsync(Book book);
                private Task<Book> SaveCoreAsync(Book book) => Task.FromResult(book);
            }
            """, EntityFrameworkCore);

        Assert.DoesNotContain(run.AnalyzerDiagnostics, d => d.Id == "CG0030");
    }

    [Fact]
    public void CG0030_needs_EF_Core_a_look_alike_DbSet_elsewhere_is_not_one()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using System.Threading.Tasks;
            using CacheGen;
            using Microsoft.Extensions.Caching.Hybrid;
            namespace App;

            public class DbContext { }
            public class DbSet<T> { }
            public sealed class Book { public int Id { get; set; } }
            public class ShopContext : DbContext { public DbSet<Book> Books { get; set; } = null!; }
            public partial class BookService(HybridCache cache)
            {
                [Cached("books")]
                public partial Task<Book?> GetAsync(int id);
                private Task<Book?> GetCoreAsync(int id) => default!;
            }
            """);

        Assert.DoesNotContain(run.AnalyzerDiagnostics, d => d.Id == "CG0030");
    }

    private static (string Source, TextSpan Span) Marked(string marked)
    {
        int start = marked.IndexOf("[|", StringComparison.Ordinal);
        int end = marked.IndexOf("|]", StringComparison.Ordinal);
        return (marked.Remove(end, 2).Remove(start, 2), TextSpan.FromBounds(start, end - 2));
    }
}
