using System.Diagnostics.CodeAnalysis;
using Microsoft.EntityFrameworkCore;

namespace CacheGen.SampleApi;

/// <summary>
/// The row of the <c>posts</c> table as EF Core tracks it. It never leaves <see cref="PostStore"/>: queries project
/// it to the immutable <see cref="Post"/> record, which is what the cache holds (caching this type is CG0030).
/// </summary>
public sealed class PostRow
{
    public int Id { get; set; }

    public required string Title { get; set; }

    public required string Content { get; set; }

    public int Version { get; set; } = 1;
}

/// <summary>The sample's EF Core model: one table, <c>posts</c>, with the column names of the Django original.</summary>
/// <remarks>
/// Its compiled form is committed in CompiledModel/ and used by every run. After a change here, regenerate it at the
/// repository root: <c>dotnet tool restore</c>, then <c>EFDesign=true dotnet ef dbcontext optimize --project sample-api
/// -o CompiledModel -n CacheGen.SampleApi.CompiledModel -c PostsContext</c>.
/// </remarks>
public sealed class PostsContext : DbContext
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = AheadOfTime.Justification)]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = AheadOfTime.Justification)]
    public PostsContext(DbContextOptions<PostsContext> options) : base(options)
    {
    }

    public DbSet<PostRow> Posts => Set<PostRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<PostRow>(post =>
        {
            post.ToTable("posts");
            post.Property(p => p.Id).HasColumnName("id");
            post.Property(p => p.Title).HasColumnName("title");
            post.Property(p => p.Content).HasColumnName("content");
            post.Property(p => p.Version).HasColumnName("version").HasDefaultValue(1);
        });
}

/// <summary>How <c>dotnet ef dbcontext optimize</c> makes a context to read the model from (see CompiledModel/).</summary>
internal sealed class PostsContextDesignFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<PostsContext>
{
    public PostsContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostsContext>().UseSqlite("Data Source=posts.db").Options);
}
