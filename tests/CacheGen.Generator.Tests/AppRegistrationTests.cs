using System.Collections.Immutable;
using CacheGen.EntityFrameworkCore;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Generator.Tests;

/// <summary>
/// CG0070 and CG0071, the first hour's silent mistakes, seen by the analyzer across an app's compilation: cached
/// services in an app that builds a service collection and registers no HybridCache, and an EF Core transaction in an
/// app with evictions and no AddCacheGenInvalidation(). Against the real DI, CacheGen.Redis, EF Core and
/// CacheGen.EntityFrameworkCore assemblies.
/// </summary>
public sealed class AppRegistrationTests
{
    private const string Service = """
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;

        [System.ComponentModel.ImmutableObject(true)] public sealed record Book(int Id, string Title);

        public sealed partial class BookService(HybridCache cache)
        {
            [Cached("books", Key = "book:{id}")]
            public partial Task<Book> GetAsync(int id);
            private Task<Book> GetCoreAsync(int id) => Task.FromResult(new Book(id, "Dune"));

            [InvalidatesCache("books")]
            public partial Task SaveAsync(Book book);
            private Task SaveCoreAsync(Book book) => Task.CompletedTask;
        }
        """;

    private static readonly MetadataReference[] AppReferences =
    [
        MetadataReference.CreateFromFile(typeof(ServiceCollection).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(IServiceCollection).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(CacheGenServiceCollectionExtensions).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(IHealthChecksBuilder).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(DbContext).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(RelationalDatabaseFacadeExtensions).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(CacheGenDbContextOptionsBuilderExtensions).Assembly.Location),
    ];

    private static ImmutableArray<Diagnostic> Warnings(string program, OutputKind kind = OutputKind.ConsoleApplication)
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(Service, program)
            .AddReferences(AppReferences)
            .WithOptions(new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorRun run = GeneratorHarness.Run(compilation);
        Assert.Empty(run.CompilationDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return [.. run.AnalyzerDiagnostics.Where(d => d.Id is "CG0070" or "CG0071")];
    }

    [Fact]
    public void An_app_that_builds_its_services_without_a_HybridCache_gets_CG0070_at_the_collection_naming_AddCacheGen()
    {
        ImmutableArray<Diagnostic> warnings = Warnings("""
            using Microsoft.Extensions.DependencyInjection;

            var services = new ServiceCollection();
            services.AddSingleton<BookService>();
            """);

        Diagnostic warning = Assert.Single(warnings);
        Assert.Equal("CG0070", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("new ServiceCollection()", warning.Location.SourceTree!.GetText().ToString(warning.Location.SourceSpan));
        Assert.Contains("'BookService' needs a HybridCache", warning.GetMessage());
        Assert.Contains("call AddCacheGen()", warning.GetMessage());
    }

    [Theory]
    [InlineData("services.AddCacheGen();")]
    [InlineData("services.AddSingleton<Microsoft.Extensions.Caching.Hybrid.HybridCache>(_ => null!);")]
    [InlineData("services.AddSingleton(typeof(Microsoft.Extensions.Caching.Hybrid.HybridCache), typeof(object));")]
    public void Any_registration_of_a_HybridCache_in_the_app_silences_CG0070(string registration)
    {
        Assert.Empty(Warnings($$"""
            using Microsoft.Extensions.DependencyInjection;

            var services = new ServiceCollection();
            {{registration}}
            services.AddSingleton<BookService>();
            """));
    }

    [Fact]
    public void A_library_never_gets_CG0070_its_app_registers_the_cache()
    {
        Assert.Empty(Warnings("""
            using Microsoft.Extensions.DependencyInjection;

            public static class Setup
            {
                public static IServiceCollection Books() => new ServiceCollection().AddSingleton<BookService>();
            }
            """, OutputKind.DynamicallyLinkedLibrary));
    }

    private const string Shop = """
        using System.Threading.Tasks;
        using Microsoft.EntityFrameworkCore;

        public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options);

        public static class Orders
        {
            public static async Task PlaceAsync(ShopContext db, BookService books)
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                await books.SaveAsync(new Book(1, "Dune"));
                await transaction.CommitAsync();
            }
        }
        """;

    [Fact]
    public void An_EF_Core_transaction_in_an_app_with_evictions_and_no_AddCacheGenInvalidation_gets_CG0071_at_the_call()
    {
        ImmutableArray<Diagnostic> warnings = Warnings(Shop + """
            public static class Program
            {
                public static void Main() { }
            }
            """);

        Diagnostic warning = Assert.Single(warnings);
        Assert.Equal("CG0071", warning.Id);
        Assert.Equal("db.Database.BeginTransactionAsync()", warning.Location.SourceTree!.GetText().ToString(warning.Location.SourceSpan));
        Assert.StartsWith("'Database.BeginTransactionAsync' opens an EF Core transaction that CacheGen cannot see", warning.GetMessage());
        Assert.Contains(".AddCacheGenInvalidation()", warning.GetMessage());
    }

    [Fact]
    public void AddCacheGenInvalidation_anywhere_in_the_app_silences_CG0071()
    {
        Assert.Empty(Warnings("using CacheGen.EntityFrameworkCore;\n" + Shop + """
            public static class Program
            {
                public static void Main() => new DbContextOptionsBuilder<ShopContext>().AddCacheGenInvalidation();
            }
            """));
    }
}
