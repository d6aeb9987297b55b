<?php
/**
 * Plugin Name: comment-guard protection
 * Description: Refuses to trash, spam or permanently delete a comment that comment-guard marked as protected, unless a moderator overrides it with a reason (recorded). Reply publicly instead.
 * Version: 1
 * License: MIT
 *
 * A must-use plugin: copy this file to wp-content/mu-plugins/ (no activation step; it cannot
 * be switched off from wp-admin). comment-guard sets the comment meta
 * `comment_guard_protected` through the REST API as its classifier and staff labels decide.
 *
 * The refusal covers every path that ends in wp_trash_comment, wp_spam_comment or
 * wp_delete_comment: the Comments screen and its AJAX links, the comment edit screen, the
 * REST API and WP-CLI. To override, tick "Override comment-guard protection" with a reason on
 * the comment's edit screen and save (or send `comment_guard_override_reason` with the request,
 * or set that meta through the REST API); the next trash/spam/delete goes through and the plugin
 * records who, what and why in `comment_guard_override`, which comment-guard archives.
 * WordPress's own scheduled emptying of the trash (EMPTY_TRASH_DAYS) is not blocked.
 */

defined( 'ABSPATH' ) || exit;

const COMMENT_GUARD_VERSION   = '1';
const COMMENT_GUARD_PROTECTED = 'comment_guard_protected';
const COMMENT_GUARD_REASON    = 'comment_guard_override_reason';
const COMMENT_GUARD_OVERRIDE  = 'comment_guard_override';

add_action(
	'init',
	function () {
		$moderator = function () {
			return current_user_can( 'moderate_comments' );
		};
		$meta      = array( 'single' => true, 'show_in_rest' => true, 'auth_callback' => $moderator );
		register_meta( 'comment', COMMENT_GUARD_PROTECTED, $meta + array( 'type' => 'boolean', 'default' => false ) );
		register_meta( 'comment', COMMENT_GUARD_REASON, $meta + array( 'type' => 'string', 'default' => '' ) );
		// The override record is written by this plugin only.
		register_meta( 'comment', COMMENT_GUARD_OVERRIDE, array( 'auth_callback' => '__return_false' ) + $meta + array( 'type' => 'string', 'default' => '' ) );
	}
);

add_action(
	'rest_api_init',
	function () {
		register_rest_route(
			'comment-guard/v1',
			'/status',
			array(
				'methods'             => 'GET',
				'permission_callback' => function () {
					return current_user_can( 'moderate_comments' );
				},
				'callback'            => function () {
					return array( 'active' => true, 'version' => COMMENT_GUARD_VERSION );
				},
			)
		);
	}
);

function comment_guard_check( $comment_id, $action ) {
	if ( wp_doing_cron() || ! get_comment_meta( $comment_id, COMMENT_GUARD_PROTECTED, true ) ) {
		return;
	}
	$reason = isset( $_REQUEST[ COMMENT_GUARD_REASON ] ) ? sanitize_text_field( wp_unslash( $_REQUEST[ COMMENT_GUARD_REASON ] ) ) : '';
	if ( '' === $reason ) {
		$reason = (string) get_comment_meta( $comment_id, COMMENT_GUARD_REASON, true );
	}
	if ( 'delete' === $action && '' === $reason && 'trash' === wp_get_comment_status( $comment_id )
		&& get_comment_meta( $comment_id, COMMENT_GUARD_OVERRIDE, true ) ) {
		return; // trashed with a recorded override: emptying the trash finishes that decision
	}
	if ( '' === trim( $reason ) ) {
		wp_die(
			esc_html(
				'comment-guard: this comment is protected (a question or complaint the public should see answered). '
				. 'Reply publicly instead. To ' . $action . ' it anyway, tick Override comment-guard protection '
				. 'on the edit screen of the comment and give your reason: it will be recorded.'
			),
			'Protected comment',
			array( 'response' => 403, 'code' => 'comment_guard_protected', 'back_link' => true )
		);
	}
	$user = wp_get_current_user();
	update_comment_meta(
		$comment_id,
		COMMENT_GUARD_OVERRIDE,
		wp_json_encode(
			array(
				'user'   => $user->exists() ? $user->user_login : 'unknown',
				'action' => $action,
				'reason' => $reason,
				'at'     => gmdate( 'Y-m-d\TH:i:s\Z' ),
			)
		)
	);
	delete_comment_meta( $comment_id, COMMENT_GUARD_REASON );
}

add_action( 'trash_comment', function ( $id ) { comment_guard_check( $id, 'trash' ); } );
add_action( 'spam_comment', function ( $id ) { comment_guard_check( $id, 'spam' ); } );
add_action( 'delete_comment', function ( $id ) { comment_guard_check( $id, 'delete' ); } );

// The tick box on the comment's edit screen (Comments > Edit).
add_action(
	'add_meta_boxes_comment',
	function ( $comment ) {
		if ( ! get_comment_meta( $comment->comment_ID, COMMENT_GUARD_PROTECTED, true ) ) {
			return;
		}
		add_meta_box(
			'comment-guard',
			'comment-guard: protected comment',
			function ( $comment ) {
				wp_nonce_field( 'comment-guard-override', 'comment_guard_nonce' );
				echo '<p>This comment is protected: reply publicly instead of removing it.</p>';
				echo '<p><label><input type="checkbox" name="comment_guard_override" value="1"> Override comment-guard protection</label></p>';
				echo '<p><label>Reason (recorded): <input type="text" class="widefat" name="' . esc_attr( COMMENT_GUARD_REASON ) . '" value=""></label></p>';
			},
			'comment',
			'normal'
		);
	}
);

add_action(
	'edit_comment',
	function ( $comment_id ) {
		if ( empty( $_POST['comment_guard_override'] ) || ! isset( $_POST['comment_guard_nonce'] )
			|| ! wp_verify_nonce( sanitize_key( $_POST['comment_guard_nonce'] ), 'comment-guard-override' )
			|| ! current_user_can( 'moderate_comments' ) ) {
			return;
		}
		$reason = isset( $_POST[ COMMENT_GUARD_REASON ] ) ? sanitize_text_field( wp_unslash( $_POST[ COMMENT_GUARD_REASON ] ) ) : '';
		if ( '' !== trim( $reason ) ) {
			update_comment_meta( $comment_id, COMMENT_GUARD_REASON, $reason );
		}
	}
);
