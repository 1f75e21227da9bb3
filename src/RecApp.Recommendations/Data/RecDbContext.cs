using Microsoft.EntityFrameworkCore;

namespace RecApp.Recommendations.Data;

/// <summary>
/// EF Core view of the catalog and users, for the API's CRUD. The schema itself is owned by the SQL
/// migrations (<see cref="DatabaseMigrator"/>, run by the migration step and the data verbs); bulk and hot paths use Npgsql directly.
/// </summary>
public sealed class RecDbContext(DbContextOptions<RecDbContext> options) : DbContext(options)
{
    public DbSet<ItemRecord> Items => Set<ItemRecord>();
    public DbSet<UserRecord> Users => Set<UserRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ItemRecord>(item =>
        {
            item.ToTable("items");
            item.HasKey(i => i.Id);
            item.Property(i => i.Id).HasColumnName("id").ValueGeneratedNever();
            item.Property(i => i.Title).HasColumnName("title");
            item.Property(i => i.Category).HasColumnName("category");
            item.Property(i => i.Tags).HasColumnName("tags");
            item.Property(i => i.Price).HasColumnName("price");
            item.Property(i => i.GeoId).HasColumnName("geo_id");
            item.Property(i => i.Active).HasColumnName("active");
            item.Property(i => i.CreatedAt).HasColumnName("created_at");
            item.Property(i => i.UpdatedAt).HasColumnName("updated_at");
        });
        modelBuilder.Entity<UserRecord>(user =>
        {
            user.ToTable("users");
            user.HasKey(u => u.Id);
            user.Property(u => u.Id).HasColumnName("id").ValueGeneratedNever();
            user.Property(u => u.Gender).HasColumnName("gender");
            user.Property(u => u.AgeGroup).HasColumnName("age_group");
            user.Property(u => u.GeoId).HasColumnName("geo_id");
            user.Property(u => u.CreatedAt).HasColumnName("created_at");
            user.Property(u => u.UpdatedAt).HasColumnName("updated_at");
        });
    }
}

public sealed class ItemRecord
{
    public long Id { get; set; }
    public required string Title { get; set; }
    public required string Category { get; set; }
    public string[] Tags { get; set; } = [];
    public decimal Price { get; set; }
    public int? GeoId { get; set; }
    public bool Active { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class UserRecord
{
    public long Id { get; set; }
    public string? Gender { get; set; }
    public string? AgeGroup { get; set; }
    public int? GeoId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
