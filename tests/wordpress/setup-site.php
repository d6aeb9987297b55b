<?php
/**
 * Install a fresh WordPress site from the command line and print its accounts as JSON.
 *
 * Usage: php setup-site.php WORDPRESS_ROOT
 *
 * Runs WordPress's own installer (wp_install), switches on pretty permalinks so /wp-json/
 * routes, and creates the users the integration tests act as, each with an application
 * password made by WP_Application_Passwords (the same code as Users → Profile):
 *   editor      the organisation's comment-guard account (role editor: moderate_comments)
 *   moderator   a second editor, the staff member who moderates in wp-admin
 *   subscriber  a reader account without moderation rights (for the permission errors)
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
$root = rtrim( $argv[1] ?? '', '/' );
define( 'WP_INSTALLING', true );
$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

add_filter( 'pre_wp_mail', '__return_false' );  // no sendmail here: skip the "new site" email
$admin_password = wp_generate_password( 24, false );
$result         = wp_install( 'Riverside Community Center', 'admin', 'admin@example.org', false, '', $admin_password );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, $result->get_error_message() . "\n" );
	exit( 1 );
}
update_option( 'permalink_structure', '/%postname%/' );
update_option( 'comment_moderation', 0 );
update_option( 'comment_previously_approved', 0 );
flush_rewrite_rules();

$out = array( 'admin_password' => $admin_password );
foreach ( array( 'editor' => 'editor', 'moderator' => 'editor', 'subscriber' => 'subscriber' ) as $login => $role ) {
	$user_id = wp_insert_user(
		array(
			'user_login'   => $login,
			'user_pass'    => wp_generate_password( 24, false ),
			'user_email'   => $login . '@example.org',
			'display_name' => ucfirst( $login ),
			'role'         => $role,
		)
	);
	if ( is_wp_error( $user_id ) ) {
		fwrite( STDERR, $user_id->get_error_message() . "\n" );
		exit( 1 );
	}
	$created = WP_Application_Passwords::create_new_application_password( $user_id, array( 'name' => 'comment-guard tests' ) );
	if ( is_wp_error( $created ) ) {
		fwrite( STDERR, $created->get_error_message() . "\n" );
		exit( 1 );
	}
	$out[ $login . '_id' ]       = $user_id;
	$out[ $login . '_password' ] = $created[0];
}
echo wp_json_encode( $out ), "\n";
